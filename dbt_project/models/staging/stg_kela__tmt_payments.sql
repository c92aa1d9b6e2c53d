-- Kela benefit payments as delivered (all benefits). Renames and types only.
with source as (

    select * from {{ source('raw', 'kela_payments') }}

),

renamed as (

    select
        cast(delivery_month as date) as delivery_month,
        cast(person_id as varchar) as person_id,
        cast(birth_date as date) as birth_date,
        cast(sex as varchar) as sex,
        cast(payment_month as date) as payment_month,
        cast(municipality_code as varchar) as municipality_code,
        cast(benefit as varchar) as benefit,
        cast(paid_days as integer) as paid_days,
        cast(cumulative_days as integer) as cumulative_days,
        cast(paid_eur as decimal(18, 2)) as paid_eur,
        cast(municipal_share_eur as decimal(18, 2)) as invoiced_share_eur,
        cast(source_file as varchar) as source_file,
        cast(source_line as integer) as source_line
    from source

)

select * from renamed
