{#- GRR can only lose revenue (DESIGN.md §5: "never above 100 %"), monthly and trailing 12
    months, in every segment; NRR and GRR are fractions, not percentages. Fails with the rows
    that break it. -#}
select month, segment, grr, grr_trailing_12m, nrr, nrr_trailing_12m
from {{ ref('retention_monthly') }}
where grr > 1 or grr_trailing_12m > 1
    or grr < 0 or grr_trailing_12m < 0
    or nrr < grr or nrr_trailing_12m < grr_trailing_12m
