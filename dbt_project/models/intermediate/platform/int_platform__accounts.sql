-- Each trading account as the platform last reported it.
{{ latest_version(ref('stg_platform__accounts'), ['server', 'login']) }}
