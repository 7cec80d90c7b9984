{#- Grain: source_system, source_record_id. For every record of int_identity__records, the CRM
    account it belongs to — by the strongest rule of int_identity__candidates that names
    exactly one account — or, when none does, the reason in a sentence. A rule naming two or
    more accounts is a conflict, never settled by picking one: the record then falls to the
    next rule (an ambiguous domain never outranks a clean explicit id, and a clean domain match
    still ties a record whose explicit ids contradict each other). -#}
with records as (
    select * from {{ ref('int_identity__records') }}
),

candidates as (
    select * from {{ ref('int_identity__candidates') }}
),

rule_outcomes as (
    select
        source_system,
        source_record_id,
        priority,
        match_method,
        match_rule,
        count(distinct account_id) as accounts_named,
        min(account_id) as account_id
    from candidates
    group by source_system, source_record_id, priority, match_method, match_rule
),

ranked as (
    select
        rule_outcomes.*,
        row_number() over (
            partition by source_system, source_record_id order by priority
        ) as rule_rank
    from rule_outcomes
    where accounts_named = 1
),

conflicts as (
    select
        source_system,
        source_record_id,
        min(match_rule) as conflicting_rule,
        max(accounts_named) as accounts_named
    from rule_outcomes
    where accounts_named > 1
    group by source_system, source_record_id
)

select
    records.source_system,
    records.source_record_id,
    records.record_name,
    records.domain,
    ranked.account_id,
    ranked.match_method,
    ranked.match_rule,
    case
        when ranked.account_id is not null then null
        when conflicts.source_record_id is not null then
            'ambiguous: "' || conflicts.conflicting_rule || '" holds for '
            || cast(conflicts.accounts_named as {{ dbt.type_string() }})
            || ' CRM accounts, and no rule names exactly one'
        when records.source_system = 'stripe' then
            'no CRM account holds this Stripe customer id, its metadata names no CRM account or'
            || ' workspace the CRM knows, and '
            || case when records.domain is null then 'its billing email has no domain'
                else 'its billing email domain ' || records.domain
                    || ' is no CRM account''s domain' end
        when records.source_system = 'zendesk' then
            'its external_id is no CRM account''s workspace id or account id, and '
            || case when records.domain is null then 'it has no domain'
                else 'none of its domains is a CRM account''s domain' end
        else
            'no CRM account holds this workspace id and no Stripe customer tied to a CRM'
            || ' account carries it'
    end as reason
from records
left join ranked
    on ranked.source_system = records.source_system
    and ranked.source_record_id = records.source_record_id
    and ranked.rule_rank = 1
left join conflicts
    on conflicts.source_system = records.source_system
    and conflicts.source_record_id = records.source_record_id
