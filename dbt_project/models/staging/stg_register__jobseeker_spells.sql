-- Jobseeker status spells as delivered, one row per spell per delivery. Renames and types,
-- and the person's integer key.
with source as (

    select * from {{ source('raw', 'jobseeker_spells') }}

),

renamed as (

    select
        cast(delivery_month as date) as delivery_month,
        cast(person_id as varchar) as person_id,
        -- The pseudonym's first 128 bits as an integer: what the models join and partition
        -- persons on, 16 bytes against a 64-character string (half the memory of the
        -- classification). A hard cast, so a pseudonym that is not hex fails the build; the
        -- test person_key_has_one_pseudonym fails it should two pseudonyms ever share a key.
        cast('0x' || substr(person_id, 1, 32) as uhugeint) as person_key,
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
