{{ crm_versions('partner_mapping', 'mapping_id', [
    ['client_id', 'varchar'], ['partner_id', 'varchar'], ['effective_from', 'timestamp'],
    ['effective_to', 'timestamp'], ['how', 'varchar'],
]) }}
