"""The log bucket (builder stack): the load balancer's access logs and the build-context
bucket's server access logs, on by default (``access_logs`` in dockyard.yml).

Each rule here follows the AWS documentation it cites:
- the bucket uses SSE-S3: the only encryption load balancer access logs support (ELB User Guide,
  "Enable access logs for your Application Load Balancer", step 1);
- Elastic Load Balancing writes as its regional account in Regions opened before August 2022,
  and as the service principal ``logdelivery.elasticloadbalancing.amazonaws.com`` in the others
  (the same page, step 2);
- S3 delivers server access logs as ``logging.s3.amazonaws.com``, granted by bucket policy with
  ``aws:SourceArn`` and ``aws:SourceAccount`` when ACLs are disabled (S3 User Guide,
  "Permissions for log delivery").
The bucket is retained when its stack goes, as the trail must outlive what it records, and
adopted by the next ``up`` (it has a name of its own); ``dockyard down --purge`` empties and
deletes it.
"""

from __future__ import annotations

from typing import Any

from troposphere import Equals, If, Parameter, Ref, Sub, s3

from dockyard.config.models import Config
from dockyard.names import log_bucket_name
from dockyard.templates.stack import Retained, private_bucket, suppress

# Where each source writes in the log bucket. A load balancer adds AWSLogs/<account>/... itself.
ALB_PREFIX = "alb"
CONTEXT_BUCKET_PREFIX = "s3/context-bucket/"

# Elastic Load Balancing's account in each Region opened before August 2022 (ELB User Guide,
# "Enable access logs for your Application Load Balancer", step 2). Every other Region grants
# the service principal instead.
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580", "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331", "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864", "ca-central-1": "985666609251",
    "eu-central-1": "054676820928", "eu-west-1": "156460612806", "eu-west-2": "652711504416",
    "eu-south-1": "635631232127", "eu-west-3": "009996457667", "eu-north-1": "897822967062",
    "me-south-1": "076674570225", "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584", "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993", "cn-northwest-1": "037604701340",
}
ELB_LOG_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"
S3_LOG_SERVICE = "logging.s3.amazonaws.com"


def elb_log_principal(region: str) -> dict[str, Any]:
    """Who writes a load balancer's access logs in ``region``."""
    account = ELB_LOG_ACCOUNTS.get(region)
    return {"AWS": Sub(f"arn:${{AWS::Partition}}:iam::{account}:root")} if account else \
        {"Service": ELB_LOG_SERVICE}


ADOPT_PARAMETER = "AdoptLogBucket"
CREATE_CONDITION = "CreateLogBucket"


def log_bucket_ref(cfg: Config) -> If:
    """The log bucket's name in the builder stack: a Ref when the stack creates it (so what
    uses it waits for it), its name when a kept one is adopted."""
    return If(CREATE_CONDITION, Ref("LogBucket"),
              Sub(log_bucket_name(cfg.name, "${AWS::AccountId}", "${AWS::Region}")))


def log_bucket_arn(cfg: Config, suffix: str = "") -> Sub:
    """The log bucket's ARN, or of keys under it with ``suffix`` (``/alb/*``)."""
    return Sub("arn:${AWS::Partition}:s3:::"
               + log_bucket_name(cfg.name, "${AWS::AccountId}", "${AWS::Region}") + suffix)


def adopt_log_bucket(t: Any) -> Retained:
    """The parameter saying the bucket exists already (kept by ``dockyard down``), and the
    condition that creates it otherwise; returns the parameter's input."""
    adopt = t.add_parameter(Parameter(
        ADOPT_PARAMETER, Type="String", AllowedValues=["no", "yes"], Default="no",
        Description="'yes' when the log bucket exists already (kept by dockyard down)"))
    t.add_condition(CREATE_CONDITION, Equals(Ref(adopt), "no"))
    return Retained("bucket", "logs")


def log_bucket(cfg: Config) -> s3.Bucket:
    """The bucket every access log goes to: SSE-S3, private, objects expire after
    ``access_logs.keep_days``, kept when the stack is deleted."""
    return suppress(s3.Bucket(
        "LogBucket",
        Condition=CREATE_CONDITION,
        BucketName=Sub(log_bucket_name(cfg.name, "${AWS::AccountId}", "${AWS::Region}")),
        **private_bucket(encryption="AES256", expiry_id="expire-logs",
                         expiry_days=cfg.access_logs.keep_days),
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
    ), ("CKV_AWS_18", "this is the log bucket: logging it into itself would log each delivery "
                      "without end"),
       ("CKV_AWS_21", "log files are written once and expire after access_logs.keep_days; "
                      "only the platform's own services write here"))


def log_bucket_policy(cfg: Config, sources: list[Any]) -> s3.BucketPolicy:
    """TLS only; the load balancer's delivery under ``alb/AWSLogs/<account>/``; S3's
    delivery of the ``sources`` buckets' server access logs under ``s3/``, from this account
    only."""
    return s3.BucketPolicy(
        "LogBucketPolicy",
        Bucket=log_bucket_ref(cfg),
        PolicyDocument={"Version": "2012-10-17", "Statement": [
            {"Sid": "DenyPlainHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [log_bucket_arn(cfg), log_bucket_arn(cfg, "/*")],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "LoadBalancerAccessLogs", "Effect": "Allow",
             "Principal": elb_log_principal(cfg.region), "Action": "s3:PutObject",
             "Resource": log_bucket_arn(cfg, f"/{ALB_PREFIX}/AWSLogs/${{AWS::AccountId}}/*")},
            {"Sid": "S3ServerAccessLogs", "Effect": "Allow",
             "Principal": {"Service": S3_LOG_SERVICE}, "Action": "s3:PutObject",
             "Resource": log_bucket_arn(cfg, f"/{CONTEXT_BUCKET_PREFIX}*"),
             "Condition": {"ArnLike": {"aws:SourceArn": sources},
                           "StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")}}},
        ]},
    )


def server_access_logging(cfg: Config) -> s3.LoggingConfiguration:
    """A bucket's server access logs, into the log bucket."""
    return s3.LoggingConfiguration(DestinationBucketName=log_bucket_ref(cfg),
                                   LogFilePrefix=CONTEXT_BUCKET_PREFIX)
