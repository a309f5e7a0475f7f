"""Property-level differences between two templates (stacks/properties.py)."""

from __future__ import annotations

from dockyard.stacks.properties import PropertyChange, parameter_changes, resource_changes


def template(**properties: object) -> dict[str, object]:
    return {"Resources": {"Group": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
                                    "Properties": properties}}}


def test_nested_values_lists_and_functions_are_compared_by_path() -> None:
    old = template(Port=5001, HealthCheckPath="/", Tags=[{"Key": "a", "Value": "1"}],
                   VpcId={"Ref": "VpcId"}, Matcher={"HttpCode": "200"})
    new = template(Port=8000, HealthCheckPath="/healthz", Tags=[{"Key": "a", "Value": "2"}],
                   VpcId={"Ref": "OtherVpc"}, Matcher={"HttpCode": "200"}, Name="web team")
    assert resource_changes(old, new, "Group") == [
        PropertyChange("HealthCheckPath", "/", "/healthz"),
        PropertyChange("Name", "(none)", '"web team"'),
        PropertyChange("Port", "5001", "8000"),
        PropertyChange("Tags[0].Value", "1", "2"),
        PropertyChange("VpcId", '{"Ref": "VpcId"}', '{"Ref": "OtherVpc"}'),
    ]
    assert resource_changes(old, old, "Group") == []


def test_long_values_are_cut_and_parameters_compared_by_value() -> None:
    old, new = template(Description="x" * 500), template(Description="y" * 500)
    (change,) = resource_changes(old, new, "Group")
    assert len(change.before) < 160 and "(502 characters)" in change.before
    assert parameter_changes({"Image": "repo@sha256:1", "Same": "a"},
                             {"Image": "repo@sha256:2", "Same": "a", "New": "b"}) == [
        PropertyChange("Image", "repo@sha256:1", "repo@sha256:2"),
        PropertyChange("New", "(none)", "b")]
