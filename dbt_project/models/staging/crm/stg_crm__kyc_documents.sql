{{ crm_versions('kyc_document', 'document_id', [
    ['client_id', 'varchar'], ['doc_type', 'varchar'], ['sha256', 'varchar'],
    ['mime_type', 'varchar'], ['size', 'bigint', 'size_bytes'], ['file_name', 'varchar'],
    ['expires_on', 'date'], ['status', 'varchar'], ['review_reason', 'varchar'],
    ['reviewed_by', 'varchar'],
]) }}
