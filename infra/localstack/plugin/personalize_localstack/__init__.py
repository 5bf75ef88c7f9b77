"""Amazon Personalize inside LocalStack (community, host mode or Docker with this package).

LocalStack loads service providers as plux plugins from the entry-point namespace
`localstack.aws.provider`, named `<api>:<provider>`; this package registers
`personalize:default`, `personalize-runtime:default` and `personalize-events:default`.
Each hands the request to our endpoint, run as a managed sidecar process (LocalStack runs
on Python 3.13, the endpoint on the project's Python 3.11 with torch): see sidecar.py.
"""
