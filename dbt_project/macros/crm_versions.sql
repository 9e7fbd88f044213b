{#-
    Every version of one kind of CRM record, typed, from the events that changed it: a row per
    version with the time it became true (valid_from), the time the next version replaced it
    (valid_to, null while current) and is_current. Events that change nothing (a refused command,
    a sign-in) do not advance the record's version and are left out. `columns` is a list of
    [state key, SQL type, column name (optional)]; the type `utc_timestamp` reads an ISO time
    with its offset as a naive UTC timestamp (portable/utc_timestamp.sql).
-#}
{% macro crm_versions(record_type, id_column, columns) -%}
    {#- The CRM events sensor rebuilds a model only when its kind of record changed. -#}
    {{ config(meta={'crm_record_type': record_type}) }}
    select
        record_id as {{ id_column }},
        record_version,
        {%- for column in columns %}
        {% if column[1] == 'utc_timestamp' -%}
            {{ utc_timestamp(json_text('state', column[0])) }}
        {%- else -%}
            cast({{ json_text('state', column[0]) }} as {{ column[1] }})
        {%- endif %} as {{ column[2] if column | length > 2 else column[0] }},
        {%- endfor %}
        event_type as changed_by_event,
        actor as changed_by,
        actor_role as changed_by_role,
        reason as change_reason,
        occurred_at as valid_from,
        lead(occurred_at) over (
            partition by record_id order by record_version
        ) as valid_to,
        record_version = max(record_version) over (partition by record_id) as is_current,
        seq as _event_seq,
        event_id as _event_id
    from (
        select
            *,
            lag(record_version) over (
                partition by record_id order by seq
            ) as previous_version
        from {{ ref('stg_crm__events') }}
        where record_type = '{{ record_type }}'
    ) as events
    where record_version > coalesce(previous_version, 0)
{%- endmacro %}
