{#- Grain: source_system, source_record_id. The account_id of every record that identity
    resolution tied to a CRM account: the CRM accounts themselves (their own id), and the
    Stripe customers, Zendesk organizations and product workspaces int_identity__resolution
    matched, with how (`explicit_id` or `domain`). Records that matched nothing are in
    int_identity__unmatched, never here. -#}
select
    crm_system as source_system,
    crm_account_id as source_record_id,
    crm_account_id as account_id,
    'explicit_id' as match_method,
    'the CRM account itself' as match_rule
from {{ ref('int_crm__accounts') }}

union all

select
    source_system,
    source_record_id,
    account_id,
    match_method,
    match_rule
from {{ ref('int_identity__resolution') }}
where account_id is not null
