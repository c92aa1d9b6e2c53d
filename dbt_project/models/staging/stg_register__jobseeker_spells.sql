-- Jobseeker status spells as delivered, one row per spell per delivery. Renames and types,
-- and the person's integer key.
with source as (

    select * from {{ source('raw', 'jobseeker_spells') }}

),

renamed as (

    select
        cast(delivery_month as date) as delivery_month,
        cast(person_id as varchar) as person_id,
        -- What the models join and partition persons on (macros/person_key.sql): half the
        -- memory of the classification against the 64-character pseudonym.
        {{ person_key('person_id') }} as person_key,
        cast(birth_date as date) as birth_date,
        cast(sex as varchar) as sex,
        cast(spell_id as varchar) as spell_id,
        cast(start_date as date) as spell_start,
        cast(end_date as date) as spell_end,
        cast(status as varchar) as status,
        cast(service as varchar) as service,
        cast(municipality_code as varchar) as municipality_code,
        cast(source_file as varchar) as source_file,
        cast(source_line as integer) as source_line
    from source

)

select * from renamed
