"""apps.<name>.scale in the app stack: a scalable target and target tracking policies,
registered once the service exists, reading both target groups of a progressive app."""

from __future__ import annotations

from typing import Any

from tests.conftest import bodies, example_config, resources_of

SCALE = ("    count: 1\n", "    scale: {min: 2, max: 6, cpu_percent: 60, "
                          "requests_per_target: 1000, response_time_ms: 250}\n")


def _policies(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in
            resources_of(template, "AWS::ApplicationAutoScaling::ScalingPolicy").items()}


def test_the_scaler_is_registered_once_the_service_exists() -> None:
    app = bodies(example_config(SCALE))["app-web"]
    assert app["Parameters"]["ServiceExists"]["AllowedValues"] == ["true", "false"]
    assert app["Parameters"]["ServiceExists"]["Default"] == "false"
    assert app["Conditions"]["Scaling"] == {"Fn::Equals": [{"Ref": "ServiceExists"}, "true"]}
    (target,) = resources_of(app, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    assert target["Condition"] == "Scaling"
    assert {k: v for k, v in target["Properties"].items() if k not in ("RoleARN", "Tags")} == {
        "ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount",
        "ResourceId": "service/acme/web", "MinCapacity": 2, "MaxCapacity": 6}
    assert "AWSServiceRoleForApplicationAutoScaling_ECSService" in \
        target["Properties"]["RoleARN"]["Fn::Sub"]
    policies = _policies(app)
    assert set(policies) == {"CpuScalingPolicy", "RequestsScalingPolicy",
                             "ResponseTimeScalingPolicy"}
    assert all(r["Condition"] == "Scaling" for r in resources_of(
        app, "AWS::ApplicationAutoScaling::ScalingPolicy").values())
    cpu = policies["CpuScalingPolicy"]["TargetTrackingScalingPolicyConfiguration"]
    assert cpu["TargetValue"] == 60
    assert cpu["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}
    plain = bodies(example_config())["app-web"]
    assert not resources_of(plain, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert "ServiceExists" not in plain["Parameters"]


def test_a_rolling_app_scales_on_its_one_target_group() -> None:
    policies = _policies(bodies(example_config(SCALE))["app-web"])
    requests = policies["RequestsScalingPolicy"]["TargetTrackingScalingPolicyConfiguration"]
    (query,) = requests["CustomizedMetricSpecification"]["Metrics"]
    assert query["ReturnData"] is True
    assert query["MetricStat"]["Stat"] == "Sum"
    assert query["MetricStat"]["Metric"]["MetricName"] == "RequestCountPerTarget"
    dimensions = {d["Name"]: d["Value"] for d in query["MetricStat"]["Metric"]["Dimensions"]}
    assert dimensions == {"LoadBalancer": {"Ref": "LoadBalancerFullName"},
                          "TargetGroup": {"Fn::GetAtt": ["TargetGroup", "TargetGroupFullName"]}}
    assert policies["ResponseTimeScalingPolicy"]["TargetTrackingScalingPolicyConfiguration"][
        "TargetValue"] == 0.25, "seconds, as TargetResponseTime is"


def test_a_progressive_app_scales_on_both_target_groups_so_a_swap_keeps_its_data() -> None:
    cfg = example_config(SCALE, ("strategy: rolling ", "strategy: blue-green "))
    policies = _policies(bodies(cfg)["app-web"])
    requests = policies["RequestsScalingPolicy"]["TargetTrackingScalingPolicyConfiguration"][
        "CustomizedMetricSpecification"]["Metrics"]
    assert [(q["Id"], q["ReturnData"]) for q in requests] == [
        ("group1", False), ("group2", False), ("combined", True)]
    assert requests[2]["Expression"] == "FILL(group1, 0) + FILL(group2, 0)"
    groups = [next(d["Value"] for d in q["MetricStat"]["Metric"]["Dimensions"]
                   if d["Name"] == "TargetGroup") for q in requests[:2]]
    assert groups == [{"Fn::GetAtt": ["TargetGroup", "TargetGroupFullName"]},
                      {"Fn::GetAtt": ["AlternateTargetGroup", "TargetGroupFullName"]}]
    latency = policies["ResponseTimeScalingPolicy"]["TargetTrackingScalingPolicyConfiguration"][
        "CustomizedMetricSpecification"]["Metrics"]
    assert latency[2]["Expression"] == "MAX([FILL(group1, 0), FILL(group2, 0)])"
