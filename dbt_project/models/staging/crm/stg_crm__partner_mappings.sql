{{ crm_versions('partner_mapping', 'mapping_id', [
    ['client_id', 'varchar'], ['partner_id', 'varchar'], ['effective_from', 'date'],
    ['effective_to', 'date'], ['how', 'varchar'],
]) }}
