"""The wire protocol, driven by botocore's service models (as LocalStack's ASF is).

router: HTTP request -> (service, operation); parser: body -> validated parameters;
serializer: provider result or ServiceError -> HTTP response; gateway: the three joined.
No operation is hand-written here: adding an operation means adding a provider method.
"""
