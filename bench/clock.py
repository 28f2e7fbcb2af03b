"""Clock benchmark: (a) due-time rate of BusinessClock.add against businesstimedelta on the seed
tiers, checking the two agree where their semantics match; (b) recomputing 100,000 open tickets
after a mapping edit, against a baseline of the same tickets computed before the edit.

    .venv/bin/python bench/clock.py [--quick]

Exits 1 if the two libraries disagree where they should agree.

Where businesstimedelta's semantics differ from ours (so agreement is only checked in UTC):
- DST: it localizes window edges with pytz (is_dst=False): an edge in a fold means the second
  occurrence and one in a gap a nonexistent standard time; ours means the first occurrence and the
  jump instant (integration/core/sla/walk.py).
- It has no round-the-clock rule: the closest, 00:00-23:59:59.999999 every day, loses 1 us at each
  midnight, so on 24/7 it must lag ours by exactly the midnights crossed (in microseconds).
- Its `difference` drops microseconds and its holiday look-ahead gives up after 5 years; neither
  is exercised here. Ending exactly at a closing returns the closing in both (its `>=` test).
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, time as clock_time, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import holidays  # noqa: E402
import pytz  # noqa: E402
from businesstimedelta import BusinessTimeDelta, HolidayRule, Rules, WorkDayRule  # noqa: E402

from integration.core.sla.calendar import BusinessClock, Calendar  # noqa: E402
from integration.core.sla.ticket import Policy, Target, TicketEvent, TicketHistory, compute_sla  # noqa: E402

UTC = timezone.utc
PRIORITIES = ("critical", "high", "medium", "low")
TIERS = ("starter", "growth", "scale", "pro", "enterprise")

# The seed's "Support Hours Definition" and its two target tables (rows: priority, columns: tier).
CALENDARS = {
    "business": Calendar("business", ((((540, 1080),),) * 5) + ((), ())),
    "extended": Calendar("extended", ((((360, 1320),),) * 5) + (((540, 1020),), ())),
    "24x7": Calendar("24x7", None, closes_on_holidays=False),
}
TIER_CALENDAR = {"starter": "business", "growth": "extended",
                 "scale": "24x7", "pro": "24x7", "enterprise": "24x7"}
FIRST_RESPONSE = {
    "critical": ("4h", "2h", "1h", "30m", "15m"), "high": ("8h", "4h", "2h", "1h", "30m"),
    "medium": ("24h", "12h", "8h", "4h", "2h"), "low": ("72h", "48h", "24h", "12h", "8h"),
}
RESOLUTION = {
    "critical": ("24h", "12h", "8h", "4h", "2h"), "high": ("72h", "48h", "24h", "12h", "8h"),
    "medium": ("7d", "5d", "3d", "2d", "1d"), "low": ("14d", "10d", "7d", "5d", "3d"),
}
US = holidays.country_holidays("US")


def target_length(text: str, calendar: Calendar) -> timedelta:
    """'30m', '4h', '3d'; a day is the calendar's longest open day ('3d' on business = 27h)."""
    number, unit = int(text[:-1]), text[-1]
    return {"m": timedelta(minutes=number), "h": timedelta(hours=number),
            "d": timedelta(seconds=number * calendar.day_seconds)}[unit]


def seed_targets(tier: str, priority: str) -> dict[Target, str]:
    column = TIERS.index(tier)
    return {Target.FIRST_RESPONSE: FIRST_RESPONSE[priority][column],
            Target.RESOLUTION: RESOLUTION[priority][column]}


def btd_rule(calendar_name: str) -> Rules:
    days = WorkDayRule
    if calendar_name == "24x7":
        return Rules([days(clock_time(0), clock_time(23, 59, 59, 999999), list(range(7)), tz=pytz.utc)])
    holiday = HolidayRule(US, tz=pytz.utc)
    if calendar_name == "business":
        return Rules([days(clock_time(9), clock_time(18), [0, 1, 2, 3, 4], tz=pytz.utc), holiday])
    return Rules([days(clock_time(6), clock_time(22), [0, 1, 2, 3, 4], tz=pytz.utc),
                  days(clock_time(9), clock_time(17), [5], tz=pytz.utc), holiday])


def random_instants(rnd: random.Random, count: int, start: datetime, days: int) -> list[datetime]:
    return [start + timedelta(microseconds=rnd.randrange(days * 86400 * 10**6)) for _ in range(count)]


def rate(function, inputs: list, min_seconds: float = 0.05) -> float:
    """Calls per second over `inputs`, repeated until at least `min_seconds` have passed."""
    calls, began = 0, time.perf_counter()
    while True:
        for item in inputs:
            function(item)
        calls += len(inputs)
        spent = time.perf_counter() - began
        if spent >= min_seconds:
            return calls / spent


def agrees(calendar_name: str, start: datetime, ours: datetime, theirs: datetime) -> bool:
    if calendar_name != "24x7":
        return ours == theirs
    midnights = (ours.date() - start.date()).days  # btd loses 1 us at each midnight crossed
    return theirs - ours == timedelta(microseconds=midnights)


def due_rates(samples: int, btd_samples: int) -> bool:
    rnd = random.Random(20240611)
    print("(a) due-time computations per second: BusinessClock.add vs businesstimedelta; zone UTC,\n"
          f"    US holidays on business/extended; per row {samples} random created_at in 2023-2025 for\n"
          f"    ours, the first {btd_samples} of them for businesstimedelta (and checked against ours);\n"
          "    ours/s reuses one clock (as the service does), cold/s builds a new clock per call")
    header = ("tier", "priority", "target", "len", "ours/s", "cold/s", "btd/s", "ours/btd", "agree")
    print("    " + "{:<10} {:<8} {:<14} {:>4} {:>9} {:>8} {:>7} {:>8} {:>8}".format(*header))
    clocks = {name: BusinessClock(cal, "UTC", US.__contains__) for name, cal in CALENDARS.items()}
    rules = {name: btd_rule(name) for name in CALENDARS}
    total_agree = total_checked = 0
    ratios = []
    for tier in TIERS:
        name = TIER_CALENDAR[tier]
        calendar, clock, rule = CALENDARS[name], clocks[name], rules[name]
        for priority in PRIORITIES:
            for target, text in seed_targets(tier, priority).items():
                length = target_length(text, calendar)
                starts = random_instants(rnd, samples, datetime(2023, 1, 1, tzinfo=UTC), 3 * 365)
                checked = starts[:btd_samples]
                ours = rate(lambda s: clock.add(s, length), starts)  # a reused clock, as the service does
                cold = rate(lambda s: BusinessClock(calendar, "UTC", US.__contains__).add(s, length),
                            starts[: max(samples // 10, 1)])  # a new clock per call: nothing cached
                delta = BusinessTimeDelta(rule, timedelta=length)
                theirs = rate(lambda s: s + delta, checked)
                agree = sum(agrees(name, s, clock.add(s, length), s + delta) for s in checked)
                total_agree, total_checked = total_agree + agree, total_checked + len(checked)
                ratios.append(ours / theirs)
                print(f"    {tier:<10} {priority:<8} {target.value:<14} {text:>4} {ours:>9.0f} {cold:>8.0f}"
                      f" {theirs:>7.0f} {ours / theirs:>7.0f}x {agree:>4}/{len(checked)}")
    geo = _geometric_mean(ratios)
    print(f"    agreeing cases: {total_agree}/{total_checked} (24/7: within 1 us per midnight, see"
          f" docstring); geometric mean speed-up {geo:.0f}x")
    return total_agree == total_checked


def _geometric_mean(values: list[float]) -> float:
    product = 1.0
    for value in values:
        product *= value ** (1 / len(values))
    return product


# ---------------------------------------------------------------- (b) recompute open tickets
ORGANIZATIONS = (("America/New_York", "US"), ("Europe/Berlin", "DE"), ("Asia/Kolkata", "IN"),
                 ("Australia/Lord_Howe", "AU"), ("UTC", None))
NOW = datetime(2024, 11, 20, 15, tzinfo=UTC)  # tickets from the 30 days before: across EU/US fall-back
StoredTicket = tuple  # (organization, tier, priority, created_at, events as (at, kind, detail))


def make_tickets(rnd: random.Random, count: int) -> list[StoredTicket]:
    tickets = []
    for created in random_instants(rnd, count, NOW - timedelta(days=30), 30):
        events = []
        if rnd.random() < 0.7:
            events.append((created + timedelta(minutes=rnd.randrange(1, 24 * 60)), "comment", (True, True)))
        if rnd.random() < 0.3:
            paused = created + timedelta(minutes=rnd.randrange(1, 3 * 24 * 60))
            events.append((paused, "status", "pending"))
            if rnd.random() < 0.5:
                events.append((paused + timedelta(minutes=rnd.randrange(1, 4 * 24 * 60)), "status", "open"))
        if rnd.random() < 0.1:
            events.append((created + timedelta(minutes=rnd.randrange(1, 2 * 24 * 60)), "policy",
                           rnd.choice(PRIORITIES)))
        tickets.append((rnd.randrange(len(ORGANIZATIONS)), rnd.choice(TIERS), rnd.choice(PRIORITIES),
                        created, tuple(events)))
    return tickets


def build_policies(edited: dict[tuple[str, str, Target], str]) -> dict[tuple[int, str, str], Policy]:
    """Fresh clocks and policies from the seed values plus `edited` targets, as a mappings reload makes."""
    policies = {}
    for org, (zone, country) in enumerate(ORGANIZATIONS):
        days = holidays.country_holidays(country) if country else {}
        clocks = {name: BusinessClock(cal, zone, days.__contains__) for name, cal in CALENDARS.items()}
        for tier in TIERS:
            calendar = CALENDARS[TIER_CALENDAR[tier]]
            for priority in PRIORITIES:
                texts = {target: edited.get((tier, priority, target), text)
                         for target, text in seed_targets(tier, priority).items()}
                policies[org, tier, priority] = Policy(
                    clocks[TIER_CALENDAR[tier]],
                    first_response=target_length(texts[Target.FIRST_RESPONSE], calendar),
                    resolution=target_length(texts[Target.RESOLUTION], calendar),
                    label=f"{tier}/{priority} on {calendar.name}")
    return policies


def history_of(ticket: StoredTicket, policies: dict) -> TicketHistory:
    org, tier, priority, created, stored = ticket
    events = []
    for at, kind, detail in stored:
        if kind == "comment":
            events.append(TicketEvent(at, "comment", public=detail[0], by_agent=detail[1]))
        elif kind == "status":
            events.append(TicketEvent(at, "status", status=detail))
        else:
            events.append(TicketEvent(at, "policy", policy=policies[org, tier, detail]))
    return TicketHistory(created, policies[org, tier, priority], tuple(events))


def recompute(tickets: list[StoredTicket], policies: dict) -> tuple[float, list]:
    began = time.perf_counter()
    results = [compute_sla(history_of(ticket, policies), NOW) for ticket in tickets]
    return time.perf_counter() - began, results


def recompute_after_edit(count: int) -> None:
    tickets = make_tickets(random.Random(7), count)
    edit = {("enterprise", "critical", Target.FIRST_RESPONSE): "10m",
            ("growth", "medium", Target.RESOLUTION): "4d", ("starter", "high", Target.FIRST_RESPONSE): "6h"}
    print(f"\n(b) recompute {count:,} open tickets (5 zones with their holidays, all tiers and priorities,"
          f" 0-4 events each, now {NOW:%Y-%m-%d %H:%M}Z)")
    baseline, before = recompute(tickets, build_policies({}))
    policies = build_policies(edit)  # fresh clocks: cold caches, as after a mappings reload
    edited, after = recompute(tickets, policies)
    warm, _ = recompute(tickets, policies)
    moved = sum(b[Target.FIRST_RESPONSE].due != a[Target.FIRST_RESPONSE].due
                or b[Target.RESOLUTION].due != a[Target.RESOLUTION].due for b, a in zip(before, after))
    events = sum(len(t[4]) for t in tickets)
    for label, seconds in (("baseline (seed mappings, before the edit):", baseline),
                           ("after the edit (3 targets changed):", edited),
                           ("again with the same, now warm, clocks:", warm)):
        ratio = "" if seconds is baseline else f"  ratio {seconds / baseline:.2f}x baseline"
        print(f"    {label:<43}{seconds:6.2f} s  {seconds / count * 1e6:6.1f} us/ticket{ratio}")
    print(f"    {events:,} events in all; {moved:,} tickets got a new due time")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples and 10,000 tickets")
    quick = parser.parse_args().quick
    agreed = due_rates(samples=2000 if quick else 20000, btd_samples=100 if quick else 500)
    recompute_after_edit(10_000 if quick else 100_000)
    if not agreed:
        print("FAIL: BusinessClock and businesstimedelta disagree where their semantics match",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
