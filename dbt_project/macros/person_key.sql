{#- The integer a person is joined and partitioned on: the first 128 bits of the pseudonym
    (64 hex characters), 16 bytes against a 64-character string. A hard cast, so a
    pseudonym that is not hex fails the build; the test person_key_has_one_pseudonym fails
    it should two pseudonyms ever share a key. Parsing the hex is the dearest expression
    of the classification: models compute it where the rows are fewest. -#}
{% macro person_key(pseudonym) -%}
    cast('0x' || substr({{ pseudonym }}, 1, 32) as uhugeint)
{%- endmacro %}
