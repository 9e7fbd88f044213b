{{ crm_versions('partner_mapping', 'mapping_id', [
    ['client_id', 'string'], ['partner_id', 'string'], ['effective_from', 'timestamp'],
    ['effective_to', 'timestamp'], ['how', 'string'],
]) }}
