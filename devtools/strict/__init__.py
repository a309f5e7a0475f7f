"""The emulator's strict profile: an emulated AWS account that behaves as AWS does where moto is
kinder (README.md, "Testing", lists what it adds).

Start one with :class:`devtools.strict.account.StrictAccount`. Each behaviour lives in the
module named after it, with the AWS documentation it follows:

==================  ==============================================================================
network.py          AWS's host names over TLS through a proxy; the S3 global endpoint's 307 and
                    opt-in-region refusal; connection resets; answers lost, cut off,
                    shortened or emptied after the account acted (answer faults)
credentials.py      role sessions as ECS hands them out (container credentials), which expire
sigv4.py            presigned URLs checked as S3 checks them: signature over the Host received,
                    expiry, the signer's session
authz.py, policy.py IAM for role sessions: actions, resources, conditions, PassRole, tagging on
                    create; S3's 403 for a missing key without s3:ListBucket
consistency.py      stale reads after ExecuteChangeSet, DeleteStack, RunTask, Create/UpdateService
quotas.py           template size and counts, RunTask overrides, IAM policy sizes, listener rules,
                    load balancer names
behaviour.py        stack operations that fail asynchronously (ROLLBACK_COMPLETE, DELETE_FAILED),
                    LastUpdatedTime, role policy updates, ContinueUpdateRollback, clusters that
                    refuse deletion while tasks run
logs.py             lastEventTimestamp updated lazily
faults.py           throttling and 5xx at a seeded rate, or on every call of an operation
access_logs.py      a template's load balancer attributes applied; access logs refused unless the
                    bucket's policy lets Elastic Load Balancing write
idempotency.py      idempotency tokens: a retried RunTask, CreateService, CreateChangeSet,
                    ExecuteChangeSet or DeleteStack gets the first answer and acts once
==================  ==============================================================================
"""
