-- The delivery log: one row per load of a file. Renames and types only.
with source as (

    select * from {{ source('raw', 'deliveries') }}

),

renamed as (

    select
        cast(source as varchar) as source_name,
        cast(delivery_month as date) as delivery_month,
        cast(source_file as varchar) as source_file,
        cast(sha256 as varchar) as file_sha256,
        cast(rows_read as integer) as rows_read,
        cast(rows_loaded as integer) as rows_loaded,
        cast(rows_rejected as integer) as rows_rejected,
        cast(loaded_at as timestamp) as loaded_at
    from source

)

select * from renamed
