-- One end-of-day statement per account and server day, the latest the platform sent.
{{ latest_version(ref('stg_platform__daily_snapshots'), ['server', 'login', 'server_day']) }}
