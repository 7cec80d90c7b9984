{#- Grain: source_system, source_record_id, account_id, match_rule. Every CRM account a record
    could belong to, by each rule that points there. Rules, strongest first (priority):

    Stripe customer
      1 the CRM account holds the customer id (HubSpot csp_stripe_customer_id, Salesforce
        Stripe_Customer_Id__c)
      2 the customer's metadata holds the CRM account id (hubspot_company_id or
        salesforce_account_id, by var `crm`)
      3 the customer's metadata workspace_id is the CRM account's workspace id
      10 the billing email's domain is the CRM account's domain
    Zendesk organization
      1 external_id is the CRM account's workspace id
      2 external_id is the CRM account id
      10 one of its domains is the CRM account's domain
    Product workspace
      1 the CRM account's workspace id
      2 a Stripe customer carrying the workspace id that rule 1 or 2 ties to a CRM account
    (no domain rule: a workspace has no domain)

    int_identity__resolution keeps the strongest rule that names exactly one account. -#}
{%- set stripe_crm_id_column = 'salesforce_account_id' if var('crm') == 'salesforce' else 'hubspot_company_id' %}
with crm as (
    select crm_account_id, stripe_customer_id, workspace_id, domain
    from {{ ref('int_crm__accounts') }}
),

customers as (
    select
        customer_id,
        workspace_id,
        {{ stripe_crm_id_column }} as crm_account_id,
        nullif(lower(split_part(customer_email, '@', 2)), '') as domain
    from {{ ref('stg_stripe__customers') }}
),

stripe_explicit as (
    select customers.customer_id, crm.crm_account_id as account_id, 1 as priority,
        'the CRM account holds this Stripe customer id' as match_rule
    from customers
    inner join crm on crm.stripe_customer_id = customers.customer_id
    union all
    select customers.customer_id, crm.crm_account_id, 2,
        'the customer metadata holds the CRM account id'
    from customers
    inner join crm on crm.crm_account_id = customers.crm_account_id
    union all
    select customers.customer_id, crm.crm_account_id, 3,
        'the customer metadata workspace_id is the CRM account''s workspace id'
    from customers
    inner join crm on crm.workspace_id = customers.workspace_id
),

stripe_candidates as (
    select 'stripe' as source_system, customer_id as source_record_id, account_id, priority,
        'explicit_id' as match_method, match_rule
    from stripe_explicit
    union all
    select 'stripe', customers.customer_id, crm.crm_account_id, 10, 'domain',
        'the billing email domain is the CRM account''s domain'
    from customers
    inner join crm on crm.domain = customers.domain
),

organizations as (
    select organization_id, external_id
    from {{ ref('stg_zendesk__organizations') }}
),

zendesk_candidates as (
    select 'zendesk' as source_system, organizations.organization_id as source_record_id,
        crm.crm_account_id as account_id, 1 as priority, 'explicit_id' as match_method,
        'external_id is the CRM account''s workspace id' as match_rule
    from organizations
    inner join crm on crm.workspace_id = organizations.external_id
    union all
    select 'zendesk', organizations.organization_id, crm.crm_account_id, 2, 'explicit_id',
        'external_id is the CRM account id'
    from organizations
    inner join crm on crm.crm_account_id = organizations.external_id
    union all
    select distinct 'zendesk', domains.organization_id, crm.crm_account_id, 10, 'domain',
        'an organization domain is the CRM account''s domain'
    from {{ ref('stg_zendesk__organization_domains') }} as domains
    inner join crm on crm.domain = domains.domain
),

workspaces as (
    select source_record_id as workspace_id
    from {{ ref('int_identity__records') }}
    where source_system = 'product'
),

product_candidates as (
    select 'product' as source_system, workspaces.workspace_id as source_record_id,
        crm.crm_account_id as account_id, 1 as priority, 'explicit_id' as match_method,
        'the CRM account holds this workspace id' as match_rule
    from workspaces
    inner join crm on crm.workspace_id = workspaces.workspace_id
    union all
    select distinct 'product', workspaces.workspace_id, stripe_explicit.account_id, 2,
        'explicit_id', 'a Stripe customer of the CRM account carries this workspace id'
    from workspaces
    inner join customers on customers.workspace_id = workspaces.workspace_id
    inner join stripe_explicit
        on stripe_explicit.customer_id = customers.customer_id
        and stripe_explicit.priority <= 2
)

select * from stripe_candidates
union all
select * from zendesk_candidates
union all
select * from product_candidates
