{#-
    The latest version of each record in a raw table, by load order: platforms re-send snapshots
    and corrections, raw (and staging) keep them all, intermediate/platform/ reads the newest.
-#}
{% macro latest_version(relation, key_columns) -%}
    select {{ star_except(['recency']) }}
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by _loaded_at desc, _row_number desc
            ) as recency
        from {{ relation }}
    )
    where recency = 1
{%- endmacro %}
