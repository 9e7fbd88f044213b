{#-
    Brokers decorate symbols per account type (EURUSD.m, EURUSD-r, eurusd., XAUUSD.e);
    the canonical symbol drops the suffix and the case so one instrument is one symbol.
-#}
{% macro canonical_symbol(raw_symbol) -%}
    upper(regexp_replace(lower({{ raw_symbol }}), '[._#-](m|r|raw|e|pro|ecn|std|micro|[0-9]+)?$', ''))
{%- endmacro %}
