# acme/ and acme/billing/ have no __init__.py: a first-party PEP 420 namespace package
FEE = 1.5
