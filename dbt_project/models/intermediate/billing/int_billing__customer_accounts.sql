{#- Grain: customer_id. The account each Stripe customer bills for: the identity-resolved
    account, or `stripe:<customer id>` for a customer that matched none. An unmatched customer
    still pays and churns; giving it an account of its own keeps its revenue in MRR and its
    movements in every retention figure (int_identity__unmatched says why it did not match). -#}
select
    customers.customer_id,
    coalesce(keys.account_id, 'stripe:' || customers.customer_id) as account_id,
    keys.account_id is not null as is_matched
from {{ ref('stg_stripe__customers') }} as customers
left join {{ ref('int_identity__account_keys') }} as keys
    on keys.source_system = 'stripe'
    and keys.source_record_id = customers.customer_id
