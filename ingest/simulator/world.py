"""The CRM side of the simulated brokerage: people, their journeys, accounts and payments.

Every record is drawn from one seeded generator in a fixed order, so a seed always yields the
same brokerage. Amounts are integer cents; times are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

TEAMS = ("London", "Limassol", "Dubai")
COUNTRIES = {  # country: (weight, language, share of EUR accounts, share of islamic accounts)
    "DE": (0.14, "de", 0.8, 0.0),
    "FR": (0.10, "fr", 0.8, 0.0),
    "ES": (0.09, "es", 0.8, 0.0),
    "IT": (0.09, "it", 0.8, 0.0),
    "GB": (0.08, "en", 0.1, 0.0),
    "PL": (0.06, "pl", 0.4, 0.0),
    "AE": (0.10, "ar", 0.0, 0.6),
    "MY": (0.08, "en", 0.0, 0.5),
    "ZA": (0.09, "en", 0.0, 0.0),
    "TH": (0.07, "th", 0.0, 0.0),
    "BR": (0.10, "pt", 0.0, 0.0),
}
LEAD_SOURCES = {  # source: (share of leads, relative chance to convert)
    "web_form": (0.35, 1.0),
    "campaign": (0.25, 0.8),
    "partner_referral": (0.15, 1.6),
    "affiliate": (0.10, 1.2),
    "import": (0.10, 0.4),
    "walk_in": (0.05, 2.0),
}
CAMPAIGNS = (
    ("CMP01", "google", "cpc", "gold-autumn", "campaign"),
    ("CMP02", "facebook", "paid_social", "trade-eurusd", "campaign"),
    ("CMP03", "youtube", "video", "learn-cfd", "campaign"),
    ("CMP04", "newsletter", "email", "webinar-oct", "campaign"),
    ("CMP05", "fxaffiliates", "affiliate", "aff-network", "affiliate"),
    ("CMP06", "cryptoaff", "affiliate", "crypto-cfd", "affiliate"),
)
FIRST_NAMES = (
    "Anna",
    "Luca",
    "Marie",
    "Jonas",
    "Sofia",
    "Omar",
    "Mei",
    "Carlos",
    "Eva",
    "Piotr",
    "Aisha",
    "Tom",
    "Nina",
    "Rafael",
    "Lena",
    "Ahmed",
    "Chloe",
    "Kai",
    "Zara",
    "Ivan",
)
LAST_NAMES = (
    "Muller",
    "Rossi",
    "Dubois",
    "Garcia",
    "Kowalski",
    "Smith",
    "Tan",
    "Silva",
    "Haddad",
    "Novak",
    "Schmidt",
    "Moreau",
    "Lopez",
    "Nguyen",
    "Khan",
    "Meyer",
    "Costa",
    "Ali",
)
# Platform servers: name, platform, server time zone, first login, share of new accounts.
SERVERS = (
    ("FXCRM-MT5-Live1", "MT5", "Europe/Athens", 5_100_000, 0.45),
    ("FXCRM-MT5-Live2", "MT5", "Etc/GMT-2", 6_200_000, 0.30),
    ("FXCRM-MT4-Live", "MT4", "Europe/Athens", 2_300_000, 0.25),
)
ACCOUNT_TYPES = {"standard": 0.6, "raw": 0.3}  # islamic share comes from the country
# Staff of the CRM (users.csv): the first agents and the finance users are the demo's users
# (ingest/crm/staff.py), so signing in as one shows their own leads and payments.
FINANCE_USERS = ("frank.finance", "fiona.finance", "felix.finance")
NAMED_AGENTS = {"AG001": ("alice.agent", "Alice Agent"), "AG002": ("bob.agent", "Bob Agent")}
OTHER_STAFF = (  # user name, full name, role, team
    ("sam.manager", "Sam Manager", "sales_manager", "T1"),
    ("carol.compliance", "Carol Compliance", "compliance_officer", None),
)
# One IB plan for every partner from the first simulated month, so partners earn statements
# (commissions.md) that finance approves and pays at month end (ingest/simulator/payouts.py).
PLAN_ID = "SIM-IB"
COMMISSION_PLANS_YAML = f"""plans:
  - plan_id: {PLAN_ID}
    name: Simulated IB
    split: [70, 20, 10]
    min_hold_seconds: 60
    exclude_symbol_groups: [crypto]
    components:
      - type: per_lot
        rates: {{fx_major: 8, fx_minor: 6, metals: 5, default: 3}}
      - type: commission_share
        pct: 20
"""
GROUP_SUFFIX = {"standard": "std", "raw": "raw", "islamic": "isl"}


@dataclass
class World:
    """All CRM tables of one simulated brokerage."""

    start: date
    days: int
    teams: pl.DataFrame
    agents: pl.DataFrame
    campaigns: pl.DataFrame
    partners: pl.DataFrame
    leads: pl.DataFrame
    lead_activities: pl.DataFrame
    clients: pl.DataFrame
    kyc_documents: pl.DataFrame
    partner_links: pl.DataFrame
    trading_accounts: pl.DataFrame
    payments: pl.DataFrame

    @property
    def platform_servers(self) -> pl.DataFrame:
        return pl.DataFrame(
            [s[:3] for s in SERVERS], schema=["server", "platform", "time_zone"], orient="row"
        )

    @property
    def users(self) -> pl.DataFrame:
        """The staff: a user per agent (its name as the user name), the sales manager,
        compliance and finance."""
        agents = [
            (
                *NAMED_AGENTS.get(a, (name.lower().replace(" ", "."), name)),
                "sales_agent",
                team,
                a,
            )
            for a, team, name in self.agents.select("agent_id", "team_id", "name").iter_rows()
        ]
        others = [(*staff, None) for staff in OTHER_STAFF]
        finance = [
            (u, u.split(".")[0].title() + " Finance", "finance", None, None) for u in FINANCE_USERS
        ]
        return pl.DataFrame(
            agents + others + finance,
            schema=["username", "full_name", "role", "team_id", "agent_id"],
            orient="row",
        )

    @property
    def partner_plans(self) -> pl.DataFrame:
        """Every partner on the simulated plan from 00:00 UTC on the first simulated month's 1st."""
        month = datetime(self.start.year, self.start.month, 1, tzinfo=UTC)
        return self.partners.select(
            "partner_id", pl.lit(PLAN_ID).alias("plan_id"), pl.lit(month).alias("effective_from")
        )

    def tables(self) -> dict[str, pl.DataFrame]:
        return {
            name: getattr(self, name)
            for name in (
                "platform_servers",
                "teams",
                "agents",
                "users",
                "campaigns",
                "partners",
                "partner_plans",
                "leads",
                "lead_activities",
                "clients",
                "kyc_documents",
                "partner_links",
                "trading_accounts",
                "payments",
            )
        }


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array(list(weights.values()), dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


KYC_OUTCOMES = {
    "approved": 0.86,
    "rejected": 0.03,
    "more_info_required": 0.04,
    "under_review": 0.03,
    "documents_pending": 0.04,
}
TEAM_LANGUAGES = {
    "London": ("en", "pl", "de"),
    "Limassol": ("fr", "es", "it", "pt"),
    "Dubai": ("ar", "en", "th"),
}
TS = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class Clock:
    """The simulated period: events happen from `t0` until a minute before `end`."""

    t0: datetime
    end: datetime

    def at(self, day_offset: float) -> datetime:
        return min(self.t0 + timedelta(days=float(day_offset)), self.end - timedelta(minutes=1))


@dataclass
class Onboarding:
    """The converted leads' journeys: what they draw on (the seed names payment references) and
    what they write, row by row, each id counting the rows so far."""

    seed: int
    clock: Clock
    partner_ids: list[str]
    documents: list[dict] = field(default_factory=list)
    partner_links: list[dict] = field(default_factory=list)
    accounts: list[dict] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)
    next_login: dict[str, int] = field(default_factory=lambda: {s[0]: s[3] for s in SERVERS})


def build_world(seed: int, start: date, days: int, n_clients: int) -> World:
    """The brokerage's CRM, step by step in the order a broker grows: teams, partners, leads
    worked by agents, conversions, then each client's KYC, partner, accounts and payments. The
    steps draw from one generator in this order, so a new draw changes every record drawn after
    it (tests/test_simulator.py's fingerprint says so); a fault or behaviour that must leave the
    rest of the world as it was draws from a generator of its own, as trading does."""
    rng = np.random.default_rng([seed, 1])
    t0 = datetime.combine(start, datetime.min.time(), UTC)
    clock = Clock(t0, t0 + timedelta(days=days))
    teams, agents = staff_teams()
    partners = recruit_partners(clock)
    partner_ids = partners["partner_id"].to_list()
    n_leads = int(n_clients / 0.4)
    lead_rows = capture_leads(rng, clock, days, n_leads, agents, partner_ids)
    converted_idx = choose_conversions(rng, lead_rows, n_clients)
    is_converted = np.zeros(n_leads, dtype=bool)
    is_converted[converted_idx] = True
    statuses, converted_at, activity_rows = work_leads(rng, clock, lead_rows, is_converted)
    leads = pl.DataFrame(lead_rows).with_columns(
        pl.Series("status", statuses),
        pl.Series("converted_at", converted_at, dtype=TS),
    )
    onboarding = Onboarding(seed, clock, partner_ids)
    client_rows = [
        onboard_client(rng, onboarding, lead_rows[i], f"C{n + 1:06d}", converted_at[i])
        for n, i in enumerate(converted_idx)
    ]
    return World(
        start=start,
        days=days,
        teams=teams,
        agents=agents,
        campaigns=pl.DataFrame(
            CAMPAIGNS,
            schema=["campaign_id", "utm_source", "utm_medium", "utm_campaign", "source"],
            orient="row",
        ),
        partners=partners,
        leads=leads,
        lead_activities=pl.DataFrame(
            activity_rows,
            schema_overrides={"occurred_at": TS, "follow_up_due_at": TS, "follow_up_done_at": TS},
        ),
        clients=pl.DataFrame(client_rows, schema_overrides={"kyc_approved_at": TS}),
        kyc_documents=pl.DataFrame(
            onboarding.documents,
            schema_overrides={
                "reviewed_at": TS,
                "expires_on": pl.Date,
                "rejection_reason": pl.String,
            },
        ),
        partner_links=pl.DataFrame(onboarding.partner_links).select(
            "client_id", "partner_id", "effective_from", "attached_by"
        ),
        trading_accounts=pl.DataFrame(onboarding.accounts),
        payments=pl.DataFrame(
            onboarding.payments,
            schema_overrides={"approved_at": TS, "executed_at": TS, "approved_by": pl.String},
        ),
    )


def staff_teams() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Three sales teams of four agents, each agent speaking some of the team's languages."""
    teams = pl.DataFrame(
        {"team_id": [f"T{i + 1}" for i in range(len(TEAMS))], "team_name": list(TEAMS)}
    )
    agent_rows = []
    for t, team in enumerate(TEAMS):
        for k in range(4):
            n = len(agent_rows) + 1
            agent_rows.append(
                {
                    "agent_id": f"AG{n:03d}",
                    "team_id": f"T{t + 1}",
                    "name": NAMED_AGENTS.get(f"AG{n:03d}", ("", ""))[1]
                    or f"{FIRST_NAMES[(n * 7) % 20]} {LAST_NAMES[n % len(LAST_NAMES)]}",
                    "languages": ",".join(
                        TEAM_LANGUAGES[team][k % 2 :] if k else TEAM_LANGUAGES[team]
                    ),
                }
            )
    return teams, pl.DataFrame(agent_rows)


def recruit_partners(clock: Clock) -> pl.DataFrame:
    """The partner hierarchy: master IBs, sub-IBs, sub-sub-IBs (three levels at least)."""
    partner_rows: list[dict] = []

    def add_partner(parent: str | None, level: int) -> str:
        pid = f"P{len(partner_rows) + 1:03d}"
        partner_rows.append(
            {
                "partner_id": pid,
                "parent_partner_id": parent,
                "level": level,
                "kind": "affiliate" if level == 1 and len(partner_rows) % 4 == 3 else "ib",
                "name": f"{LAST_NAMES[len(partner_rows) % len(LAST_NAMES)]} Partners {pid}",
                "referral_code": f"REF{pid[1:]}{'ABCDEFGH'[len(partner_rows) % 8]}",
                "registered_at": clock.at(-60 + len(partner_rows)),
            }
        )
        return pid

    for _ in range(3):
        master = add_partner(None, 1)
        for _ in range(2):
            sub = add_partner(master, 2)
            for _ in range(2):
                add_partner(sub, 3)
    return pl.DataFrame(partner_rows)


def capture_leads(
    rng: np.random.Generator,
    clock: Clock,
    days: int,
    n_leads: int,
    agents: pl.DataFrame,
    partner_ids: list[str],
) -> list[dict]:
    """Leads from every source, each assigned to an agent who speaks its language (else
    round-robin), created over the first 85% of the period."""
    country_w = {c: v[0] for c, v in COUNTRIES.items()}
    source_w = {s: v[0] for s, v in LEAD_SOURCES.items()}
    agent_ids = agents["agent_id"].to_list()
    agents_by_language: dict[str, list[str]] = {}
    for agent_id, languages in agents.select("agent_id", "languages").iter_rows():
        for lang in languages.split(","):
            agents_by_language.setdefault(lang, []).append(agent_id)
    lead_rows = []
    round_robin = 0
    for i in range(n_leads):
        country = _pick(rng, country_w)
        language = COUNTRIES[country][1]
        source = _pick(rng, source_w)
        campaign_id = partner_id = None
        if source in ("campaign", "affiliate"):
            options = [c[0] for c in CAMPAIGNS if c[4] == source]
            campaign_id = options[int(rng.integers(len(options)))]
        if source == "partner_referral":
            partner_id = partner_ids[int(rng.integers(len(partner_ids)))]
        pool = agents_by_language.get(language)
        if pool:  # assignment by language rule, else round-robin
            owner, rule = pool[int(rng.integers(len(pool)))], "language"
        else:
            owner, rule = agent_ids[round_robin % len(agent_ids)], "round_robin"
            round_robin += 1
        first, last = FIRST_NAMES[int(rng.integers(20))], LAST_NAMES[int(rng.integers(18))]
        created = clock.at(rng.uniform(0, days * 0.85))
        lead_rows.append(
            {
                "lead_id": f"L{i + 1:06d}",
                "created_at": created,
                "source": source,
                "campaign_id": campaign_id,
                "partner_id": partner_id,
                "country": country,
                "language": language,
                "first_name": first,
                "last_name": last,
                "email": f"{first}.{last}.{i + 1}@example.com".lower(),
                "phone": f"+{30 + i % 60}{7_000_000_000 + i:d}",
                "owner_agent_id": owner,
                "assignment_rule": rule,
            }
        )
    return lead_rows


def choose_conversions(rng: np.random.Generator, lead_rows: list[dict], n_clients: int):
    """Which leads become clients (their positions, ascending), weighted by source quality."""
    chance = np.array([LEAD_SOURCES[row["source"]][1] for row in lead_rows])
    return np.sort(
        rng.choice(len(lead_rows), size=n_clients, replace=False, p=chance / chance.sum())
    )


def work_leads(
    rng: np.random.Generator, clock: Clock, lead_rows: list[dict], is_converted: np.ndarray
) -> tuple[list[str], list[datetime | None], list[dict]]:
    """Agents call, write and meet each lead until it converts, is lost or goes quiet: each
    lead's status, conversion time and activities."""
    end = clock.end
    statuses, converted_at, activity_rows = [], [], []
    for i, row in enumerate(lead_rows):
        created = row["created_at"]
        # First contact: minutes to a day; a few are never contacted.
        contacted = created + timedelta(minutes=float(rng.lognormal(4.0, 1.2)))
        never = not is_converted[i] and rng.random() < 0.12
        n_act = 0 if never else 1 + int(rng.poisson(2))
        t = contacted
        for a in range(n_act):
            kind = (
                "call"
                if a == 0
                else _pick(
                    rng, {"call": 0.45, "email": 0.3, "sms": 0.1, "meeting": 0.05, "note": 0.1}
                )
            )
            activity_rows.append(
                {
                    "activity_id": f"A{len(activity_rows) + 1:07d}",
                    "lead_id": row["lead_id"],
                    "agent_id": row["owner_agent_id"],
                    "kind": kind,
                    "occurred_at": min(t, end),
                    "outcome": _pick(rng, {"reached": 0.6, "no_answer": 0.3, "callback": 0.1}),
                    "follow_up_due_at": min(t + timedelta(days=2), end),
                    "follow_up_done_at": (
                        min(t + timedelta(hours=float(rng.uniform(2, 60))), end)
                        if rng.random() < 0.8
                        else None
                    ),
                }
            )
            t += timedelta(hours=float(rng.uniform(4, 72)))
        if is_converted[i]:
            statuses.append("converted")
            converted_at.append(min(t, end - timedelta(hours=2)))
        else:
            statuses.append(
                "new"
                if never
                else _pick(
                    rng, {"contacted": 0.3, "qualified": 0.15, "lost": 0.35, "unqualified": 0.2}
                )
            )
            converted_at.append(None)
    return statuses, converted_at, activity_rows


def onboard_client(
    rng: np.random.Generator,
    onboarding: Onboarding,
    lead: dict,
    client_id: str,
    registered: datetime,
) -> dict:
    """A converted lead's journey: KYC, the client record, its partner, then (once approved)
    its accounts and their payments. Returns the client row; the rest goes to `onboarding`."""
    category = "professional" if rng.random() < 0.08 else "retail"
    outcome, approved_at = review_kyc(rng, onboarding, client_id, registered)
    client = {
        "client_id": client_id,
        "lead_id": lead["lead_id"],
        "registered_at": registered,
        "first_name": lead["first_name"],
        "last_name": lead["last_name"],
        "email": lead["email"],
        "country": lead["country"],
        "category": category,
        "risk_level": _pick(rng, {"low": 0.6, "medium": 0.32, "high": 0.08}),
        "appropriateness_score": int(rng.integers(40, 101)),
        "kyc_status": outcome,
        "kyc_approved_at": approved_at,
        "account_status": "active" if approved_at else "pending",
    }
    attach_partner(rng, onboarding, lead, client_id, registered)
    if approved_at is not None:
        open_accounts(rng, onboarding, client, approved_at)
    return client


def review_kyc(
    rng: np.random.Generator,
    onboarding: Onboarding,
    client_id: str,
    registered: datetime,
) -> tuple[str, datetime | None]:
    """The client uploads an identity document, a proof of address and a selfie; compliance
    reviews them. Returns the KYC outcome and when it was approved (None if not, or not yet)."""
    end = onboarding.clock.end
    outcome = _pick(rng, KYC_OUTCOMES)
    uploaded = registered + timedelta(hours=float(rng.uniform(0.2, 30)))
    reviewed = uploaded + timedelta(hours=float(rng.uniform(1, 48)))
    approved_at = reviewed if outcome == "approved" and reviewed < end else None
    if outcome == "approved" and approved_at is None:
        outcome = "under_review"
    for doc_type in (
        "passport" if rng.random() < 0.7 else "national_id",
        "proof_of_address",
        "selfie",
    ):
        if outcome == "documents_pending" and doc_type != "selfie":
            continue
        status = {
            "approved": "accepted",
            "rejected": "rejected",
            "more_info_required": "rejected" if doc_type == "proof_of_address" else "accepted",
        }.get(outcome, "uploaded")
        onboarding.documents.append(
            {
                "document_id": f"D{len(onboarding.documents) + 1:07d}",
                "client_id": client_id,
                "document_type": doc_type,
                "uploaded_at": min(uploaded, end),
                "status": status,
                "reviewed_at": reviewed if status != "uploaded" and reviewed < end else None,
                "rejection_reason": ("document unreadable" if status == "rejected" else None),
                "expires_on": (registered + timedelta(days=int(rng.integers(200, 3000)))).date()
                if doc_type in ("passport", "national_id")
                else None,
            }
        )
    return outcome, approved_at


def attach_partner(
    rng: np.random.Generator,
    onboarding: Onboarding,
    lead: dict,
    client_id: str,
    registered: datetime,
) -> None:
    """The referring partner, or one attached by hand; a few clients move partner later."""
    end = onboarding.clock.end
    partner_ids = onboarding.partner_ids
    partner = lead["partner_id"] or (
        partner_ids[int(rng.integers(len(partner_ids)))] if rng.random() < 0.25 else None
    )
    if not partner:
        return
    onboarding.partner_links.append(
        {
            "client_id": client_id,
            "partner_id": partner,
            "effective_from": registered,
            "attached_by": "referral_code" if lead["partner_id"] else "manual",
        }
    )
    if rng.random() < 0.05 and registered < end - timedelta(days=10):
        moved = registered + timedelta(days=float(rng.uniform(5, (end - registered).days)))
        onboarding.partner_links.append(
            {
                "client_id": client_id,
                "effective_from": moved,
                "attached_by": "move",
                "partner_id": partner_ids[int(rng.integers(len(partner_ids)))],
            }
        )


def open_accounts(
    rng: np.random.Generator, onboarding: Onboarding, client: dict, approved_at: datetime
) -> None:
    """One trading account (three in ten clients two) on a server drawn by its share, in the
    client's country's currency and account type; then its payments."""
    server_w = {s[0]: s[4] for s in SERVERS}
    country, category = client["country"], client["category"]
    islamic_share = COUNTRIES[country][3]
    for k in range(1 + int(rng.random() < 0.3)):
        server = _pick(rng, server_w)
        platform = next(s[1] for s in SERVERS if s[0] == server)
        login = onboarding.next_login[server]
        onboarding.next_login[server] += 1 + int(rng.integers(3))
        currency = "EUR" if rng.random() < COUNTRIES[country][2] else "USD"
        acct_type = "islamic" if rng.random() < islamic_share else _pick(rng, ACCOUNT_TYPES)
        leverage = 30 if category == "retail" else int(rng.choice([100, 200, 500]))
        opened = approved_at + timedelta(minutes=5 + 60 * k)
        account = {
            "account_id": f"TA{len(onboarding.accounts) + 1:06d}",
            "client_id": client["client_id"],
            "platform": platform,
            "server": server,
            "login": login,
            "group": f"real\\{category}\\{currency.lower()}-{GROUP_SUFFIX[acct_type]}",
            "currency": currency,
            "leverage": leverage,
            "account_type": acct_type,
            "opened_at": opened,
            "status": "active",
        }
        onboarding.accounts.append(account)
        if rng.random() > 0.82 or opened > onboarding.clock.end - timedelta(hours=6):
            continue  # never funded
        fund_account(rng, onboarding, account)


def fund_account(rng: np.random.Generator, onboarding: Onboarding, account: dict) -> None:
    """A first deposit, then a few top-ups and withdrawals (sized later, from the balance the
    trading leaves: simulator/trading.py)."""
    end = onboarding.clock.end
    payment_rows = onboarding.payments
    t = account["opened_at"] + timedelta(hours=float(rng.lognormal(1.5, 1.2)))
    amount = int(round(float(rng.lognormal(7.3, 1.0)), -1)) * 100
    amount = max(amount, 100_00)
    n_topups = int(rng.poisson(1.2))
    for p in range(1 + n_topups + int(rng.poisson(0.7))):
        if t >= end:
            break
        kind = "deposit" if p <= n_topups else "withdrawal"
        status = (
            _pick(rng, {"executed": 0.9, "rejected": 0.05, "cancelled": 0.05}) if p else "executed"
        )
        if p and t >= end - timedelta(days=2):  # the last days' requests still wait
            status = "approved" if len(payment_rows) % 3 == 0 else "requested"
        # Most requests come from the client portal; the back office enters the rest.
        # Four eyes: the approver is a finance user other than the requester.
        requester = "client" if rng.random() < 0.7 else FINANCE_USERS[int(rng.integers(3))]
        approvers = [u for u in FINANCE_USERS if u != requester]
        payment_rows.append(
            {
                "payment_id": f"PAY{len(payment_rows) + 1:07d}",
                "client_id": account["client_id"],
                "account_id": account["account_id"],
                "login": account["login"],
                "server": account["server"],
                "kind": kind,
                "method": _pick(
                    rng, {"card": 0.5, "bank_wire": 0.25, "e_wallet": 0.17, "crypto": 0.08}
                ),
                "amount_cents": amount if kind == "deposit" else 0,
                "currency": account["currency"],
                "fee_cents": 0,
                "requested_at": t,
                "status": status,
                "approved_at": t + timedelta(minutes=20)
                if status in ("executed", "approved")
                else None,
                "executed_at": t + timedelta(minutes=35) if status == "executed" else None,
                "requested_by": requester,
                "approved_by": approvers[int(rng.integers(len(approvers)))]
                if status in ("executed", "approved")
                else None,
                "provider_reference": f"PSP-{onboarding.seed}-{len(payment_rows) + 1:08d}",
            }
        )
        t += timedelta(days=float(rng.exponential(12)))
        amount = max(int(round(float(rng.lognormal(6.8, 0.9)), -1)) * 100, 50_00)
