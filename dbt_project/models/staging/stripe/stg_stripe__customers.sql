{#- Grain: customer_id. One Stripe customer as last loaded, with the identity keys it carries. -#}
select
    id as customer_id,
    email as customer_email,
    name as customer_name,
    currency,
    coalesce(delinquent, false) as is_delinquent,
    metadata__workspace_id as workspace_id,
    metadata__hubspot_company_id as hubspot_company_id,
    metadata__salesforce_account_id as salesforce_account_id,
    {{ from_unix_seconds('created') }} as created_at,
    coalesce(deleted, false) as is_deleted
from {{ source('stripe', 'customers') }}
