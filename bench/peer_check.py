"""Checks that Verbund and the peer (PostGraphile) answer the benchmark's queries with the
same figures: (a) the same organisations with the same three counts; (c) every cell the
ministry's protected view shows equals the peer's exact count (a suppressed cell shows
nothing to compare). Usage: peer_check.py a VERBUND.json PEER.json | c VERBUND.json PEER.json"""
import json
import sys

kind, ours_path, theirs_path = sys.argv[1:4]
ours = json.load(open(ours_path))
theirs = json.load(open(theirs_path))
if "errors" in theirs or "errors" in ours:
    sys.exit(f"{kind}: errors in an answer: {ours.get('errors')} {theirs.get('errors')}")
if kind == "a":
    a = sorted(
        (e["node"]["name"], e["node"]["contactCount"], e["node"]["offeringCount"], e["node"]["mentorshipCount"])
        for e in ours["data"]["organisations"]["edges"]
    )
    b = sorted(
        (n["name"], n["contactsByOrganisationId"]["totalCount"], n["offeringsByOrganisationId"]["totalCount"],
         n["mentorshipsByOrganisationId"]["totalCount"])
        for n in theirs["data"]["allOrganisations"]["nodes"]
    )
    if a != b:
        diff = [x for x in a if x not in b][:3]
        sys.exit(f"(a) differs: {len(a)} against {len(b)} organisations, e.g. {diff}")
    print(f"(a) same answer: {len(a)} organisations, {sum(x[3] for x in a)} active mentorships")
else:
    exact = {
        (n["state"], n["status"], str(n["year"])): int(n["count"])
        for n in theirs["data"]["allPeerMentorshipsByStateStatusYears"]["nodes"]
    }
    shown = hidden = 0
    for r in ours["rows"]:
        k = {x["dimension"]: x["value"] for x in r["keys"]}
        key = (k["state"], k["status"], k["year"])
        if r["suppressed"]:
            hidden += 1
            continue
        shown += 1
        if exact.get(key, 0) != r["count"]:
            sys.exit(f"(c) differs at {key}: {r['count']} against {exact.get(key)}")
    total = sum(exact.values())
    if total != ours["total"]["count"]:
        sys.exit(f"(c) totals differ: {ours['total']['count']} against {total}")
    print(f"(c) same figures: {shown} shown cells equal the peer's, {hidden} suppressed, total {total}")
