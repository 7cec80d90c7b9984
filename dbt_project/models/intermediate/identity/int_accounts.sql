{#- Grain: account_id. One row per CRM account (account_id = the CRM's id as text) with its id
    in every other source, its CSM and the contract facts the CRM records.

    When several records of one source matched the account, its `<source>_id` column names one
    (the one the CRM itself holds, else the strongest match, else the smallest id); every
    match stays in int_identity__account_keys, and billing and support figures sum over all of
    them. customer_since is the day the account's first Stripe subscription started (over all
    its customers), the start of billing; null for an account never billed. -#}
with crm as (
    select * from {{ ref('int_crm__accounts') }}
),

keys as (
    select * from {{ ref('int_identity__account_keys') }}
),

ranked_keys as (
    select
        keys.source_system,
        keys.source_record_id,
        keys.account_id,
        row_number() over (
            partition by keys.account_id, keys.source_system
            order by
                case
                    when keys.source_system = 'stripe'
                        and keys.source_record_id = crm.stripe_customer_id then 0
                    when keys.source_system = 'product'
                        and keys.source_record_id = crm.workspace_id then 0
                    else 1
                end,
                case keys.match_method when 'explicit_id' then 0 else 1 end,
                keys.source_record_id
        ) as key_rank
    from keys
    inner join crm on crm.crm_account_id = keys.account_id
    where keys.source_system in ('stripe', 'zendesk', 'product')
),

chosen_keys as (
    select
        account_id,
        max(case when source_system = 'stripe' then source_record_id end) as stripe_customer_id,
        max(case when source_system = 'zendesk' then source_record_id end)
            as zendesk_organization_id,
        max(case when source_system = 'product' then source_record_id end) as workspace_id
    from ranked_keys
    where key_rank = 1
    group by account_id
),

billing_starts as (
    select
        keys.account_id,
        cast(min(subscriptions.started_at) as date) as first_subscription_on
    from {{ ref('stg_stripe__subscriptions') }} as subscriptions
    inner join keys
        on keys.source_system = 'stripe'
        and keys.source_record_id = subscriptions.customer_id
    group by keys.account_id
),

csms as (
    select * from {{ ref('int_csms') }}
)

select
    crm.crm_account_id as account_id,
    crm.crm_system,
    crm.crm_account_id,
    chosen_keys.stripe_customer_id,
    chosen_keys.zendesk_organization_id,
    coalesce(crm.workspace_id, chosen_keys.workspace_id) as workspace_id,
    crm.account_name,
    crm.domain,
    crm.industry,
    crm.owner_id as csm_id,
    csms.csm_email,
    csms.csm_name,
    crm.crm_plan,
    crm.crm_seats,
    crm.renewal_date,
    crm.lifecycle_stage,
    billing_starts.first_subscription_on as customer_since,
    crm.created_at as crm_created_at,
    crm.is_deleted
from crm
left join chosen_keys on chosen_keys.account_id = crm.crm_account_id
left join billing_starts on billing_starts.account_id = crm.crm_account_id
left join csms on csms.csm_id = crm.owner_id
