{#- Every paying account is in exactly one CSM's book: on the as-of day the books' accounts and
    ARR add up to the paying accounts and ARR of dim_accounts (same as-of month). Returns a row
    when they differ. -#}
with books as (

    select sum(accounts) as accounts, sum(arr) as arr
    from {{ ref('csm_book_of_business') }}
    where date = (select max(date) from {{ ref('csm_book_of_business') }})

),

accounts as (

    select count(*) as accounts, sum(arr) as arr
    from {{ ref('dim_accounts') }}
    where mrr > 0

)

select books.accounts as book_accounts, accounts.accounts as paying_accounts,
    books.arr as book_arr, accounts.arr as paying_arr
from books
cross join accounts
where books.accounts <> accounts.accounts
    or abs(books.arr - accounts.arr) > 0.01
