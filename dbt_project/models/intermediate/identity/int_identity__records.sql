{#- Grain: source_system, source_record_id. Every record outside the CRM that must be tied to a
    CRM account: Stripe customers, Zendesk organizations and product workspaces (every
    workspace id the usage feed or the surveys mention), with the name and domain a person
    reading int_identity__unmatched needs. The domain of a Stripe customer is its billing
    email's; of a Zendesk organization its first domain (matching uses all of them). -#}
with stripe_customers as (
    select
        'stripe' as source_system,
        customer_id as source_record_id,
        customer_name as record_name,
        nullif(lower(split_part(customer_email, '@', 2)), '') as domain
    from {{ ref('stg_stripe__customers') }}
),

zendesk_organizations as (
    select
        'zendesk' as source_system,
        organizations.organization_id as source_record_id,
        organizations.organization_name as record_name,
        min(domains.domain) as domain
    from {{ ref('stg_zendesk__organizations') }} as organizations
    left join {{ ref('stg_zendesk__organization_domains') }} as domains
        on domains.organization_id = organizations.organization_id
    group by organizations.organization_id, organizations.organization_name
),

product_workspaces as (
    select workspace_id from {{ ref('stg_product__usage_events') }}
    union
    select workspace_id from {{ ref('stg_product__survey_responses') }}
)

select * from stripe_customers
union all
select * from zendesk_organizations
union all
select
    'product' as source_system,
    workspace_id as source_record_id,
    cast(null as {{ dbt.type_string() }}) as record_name,
    cast(null as {{ dbt.type_string() }}) as domain
from product_workspaces
where workspace_id is not null
