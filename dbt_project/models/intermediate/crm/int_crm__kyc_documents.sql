{{ crm_versions('kyc_document', 'document_id', [
    ['client_id', 'string'], ['doc_type', 'string'], ['sha256', 'string'],
    ['mime_type', 'string'], ['size', 'bigint', 'size_bytes'], ['file_name', 'string'],
    ['expires_on', 'date'], ['status', 'string'], ['review_reason', 'string'],
    ['reviewed_by', 'string'],
]) }}
