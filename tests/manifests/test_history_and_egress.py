"""Failed runs stay until their TTL; the NetworkPolicy allows only the egress it is told about."""

from __future__ import annotations

import ipaddress
from typing import Any

from tests.manifests import chart
from workflows.layers import JOBS

PEERS = (
    "--set", "networkPolicy.enabled=true",
    "--set", "networkPolicy.postgres.cidrs={10.20.0.0/16}",
    "--set", "networkPolicy.kubernetesApi.cidrs={172.20.0.1/32}",
)  # fmt: skip


def test_failed_runs_survive_until_the_ttl_deletes_them(
    all_crons_docs: list[dict[str, Any]],
) -> None:
    """argo-workflows v4.1.2 workflow/cron/operator.go:440-471: after each run the
    CronWorkflow deletes its oldest failed Workflows beyond failedJobsHistoryLimit, whatever
    the ttlStrategy says. Hourly silver with a limit of 5 lost a failed run after 5 hours of a
    7-day TTL."""
    (template,) = chart.by_kind(all_crons_docs, "WorkflowTemplate")
    ttl = template["spec"]["ttlStrategy"]["secondsAfterFailure"]
    assert ttl >= 7 * 86400
    by_name = {f"wb-dbt-workbench-{job.name}": job for job in JOBS}
    crons = chart.by_kind(all_crons_docs, "CronWorkflow")
    assert len(crons) == len([job for job in JOBS if job.scheduled])
    for cron in crons:
        job = by_name[cron["metadata"]["name"]]
        limit = cron["spec"]["failedJobsHistoryLimit"]
        # Every failed scheduled run within the TTL window fits, as one schedule fires.
        assert limit * job.interval_seconds >= ttl, cron["metadata"]["name"]


def test_no_networkpolicy_by_default_and_none_allowing_anywhere(
    default_docs: list[dict[str, Any]], rendered_scenarios: dict[str, list[dict[str, Any]]]
) -> None:
    assert chart.by_kind(default_docs, "NetworkPolicy") == []
    for name, docs in rendered_scenarios.items():
        for policy in chart.by_kind(docs, "NetworkPolicy"):
            for rule in policy["spec"]["egress"]:
                assert rule.get("to"), (name, rule)  # a rule without `to` allows everything
                for peer in rule["to"]:
                    assert peer.get("ipBlock", {}).get("cidr") != "0.0.0.0/0" or (
                        rule["ports"][0]["port"] == 443  # S3's published ranges are wide
                    ), (name, rule)


def test_enabled_without_peers_fails_rendering() -> None:
    for missing, needed in [
        (("--set", "networkPolicy.enabled=true"), "networkPolicy.postgres.cidrs"),
        (
            ("--set", "networkPolicy.enabled=true",
             "--set", "networkPolicy.postgres.cidrs={10.0.0.0/8}"),
            "networkPolicy.kubernetesApi.cidrs",
        ),
        ((*PEERS, "--set", "docs.bucket=docs-bucket"), "networkPolicy.s3.cidrs"),
    ]:  # fmt: skip
        result = chart.helm("template", chart.RELEASE, str(chart.CHART_DIR), *missing)
        assert result.returncode != 0 and needed in result.stderr, result.stderr


def test_dns_goes_only_to_the_cluster_dns_pods() -> None:
    docs = chart.documents(chart.template(extra=PEERS))
    (policy,) = chart.by_kind(docs, "NetworkPolicy")
    dns = [r for r in policy["spec"]["egress"] if {p["port"] for p in r["ports"]} == {53}]
    assert len(dns) == 1
    (peer,) = dns[0]["to"]
    assert peer == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }
    (template,) = chart.by_kind(docs, "WorkflowTemplate")
    pod_labels = template["spec"]["podMetadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert policy["spec"]["ingress"] == []
    ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert ports == {53, 5432, 443, 6443}  # no S3 without a bucket, no Pushgateway without a URL


def test_prod_s3_rule_reaches_no_private_address(
    rendered_scenarios: dict[str, list[dict[str, Any]]],
) -> None:
    """S3 has no fixed CIDRs, so prod allows 0.0.0.0/0:443; without `except` that rule also
    opened every in-cluster and VPC HTTPS service (the API server's endpoints, other pods)."""
    (policy,) = chart.by_kind(rendered_scenarios["values-prod"], "NetworkPolicy")
    (s3,) = [
        rule
        for rule in policy["spec"]["egress"]
        if any(p.get("ipBlock", {}).get("cidr") == "0.0.0.0/0" for p in rule["to"])
    ]
    assert [p["port"] for p in s3["ports"]] == [443]
    wide = ipaddress.ip_network("0.0.0.0/0")
    for peer in s3["to"]:
        block = peer["ipBlock"]
        excluded = [ipaddress.ip_network(c) for c in block.get("except", [])]
        assert all(e.subnet_of(wide) for e in excluded)  # the API rejects an except outside
        for private in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"):
            assert any(ipaddress.ip_network(private).subnet_of(e) for e in excluded), private


def test_s3_cidrs_accept_plain_and_except_entries() -> None:
    docs = chart.documents(
        chart.template(
            extra=(
                *PEERS,
                "--set", "docs.bucket=docs-bucket",
                "--set", "networkPolicy.s3.cidrs[0]=52.95.0.0/16",
                "--set", "networkPolicy.s3.cidrs[1].cidr=0.0.0.0/0",
                "--set", "networkPolicy.s3.cidrs[1].except={10.0.0.0/8}",
            )
        )
    )  # fmt: skip
    (policy,) = chart.by_kind(docs, "NetworkPolicy")
    blocks = [p["ipBlock"] for r in policy["spec"]["egress"] for p in r["to"] if "ipBlock" in p]
    assert {"cidr": "52.95.0.0/16"} in blocks
    assert {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]} in blocks
    refused = chart.helm(
        "template", chart.RELEASE, str(chart.CHART_DIR), *PEERS,
        "--set", "networkPolicy.s3.cidrs[0].except={10.0.0.0/8}",
    )  # fmt: skip
    assert refused.returncode != 0 and "cidr" in refused.stderr, refused.stderr
