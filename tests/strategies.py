"""Hypothesis strategies that generate valid disclosure records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import strategies as st

from aidisclose import DisclosureRecord
from aidisclose.record import (
    AISystem,
    Approval,
    Consent,
    Creator,
    DataHandling,
    HumanReview,
    Likeness,
    Prompt,
    QualityControl,
    SyntheticContent,
    TrainingData,
)
from aidisclose.vocab import (
    RETIRED_SOURCE_TYPES,
    ApprovalCategory,
    ConsentStatus,
    Deliverable,
    DigitalSourceType,
    Genre,
    GrantedBy,
    LikenessKind,
    OutputStatus,
    ReplicaType,
    Representation,
    ReviewStatus,
    TrainingDataProvenance,
    TrainingMining,
)

# Any character XML can carry except carriage returns (the model turns them
# into line feeds), surrogates and the two noncharacters XML forbids.
_chars = st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff") | st.sampled_from("\n\t")
text = st.text(_chars, min_size=1, max_size=40).filter(lambda s: s.strip() != "")


def opt(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


aware = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]),
)
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1))
writable_types = st.sampled_from([t for t in DigitalSourceType if t not in RETIRED_SOURCE_TYPES])

consents = st.builds(
    Consent,
    status=st.sampled_from(ConsentStatus),
    reference=opt(text),
    date=opt(dates),
    scope=opt(text),
    granted_by=opt(st.sampled_from(GrantedBy)),
    separate_from_contract=opt(st.booleans()),
    intended_use=opt(text),
    scan_notice_hours=opt(st.integers(min_value=0, max_value=87_600)),
    project=opt(text),
    represented_by=opt(st.sampled_from(Representation)),
)
data_handling = st.builds(
    DataHandling,
    retains_inputs=opt(st.booleans()),
    trains_on_inputs=opt(st.booleans()),
    enterprise_secured=opt(st.booleans()),
    terms_reference=opt(text),
)

records = st.builds(
    DisclosureRecord,
    title=opt(text),
    asset_id=opt(text),
    production=opt(text),
    deliverable=opt(st.sampled_from(Deliverable)),
    genre=opt(st.sampled_from(Genre)),
    ai_used=opt(st.booleans()),
    digital_source_type=opt(writable_types),
    ai_systems=st.lists(
        st.builds(
            AISystem,
            name=text,
            version=opt(text),
            provider=opt(text),
            purpose=opt(text),
            data_handling=opt(data_handling),
        ),
        max_size=3,
    ),
    usage_description=opt(text),
    prompts=st.lists(st.builds(Prompt, text=text, writer=opt(text)), max_size=2),
    generated_at=opt(aware),
    creators=st.lists(st.builds(Creator, name=text, role=opt(text)), max_size=3),
    ai_credit_line=opt(text),
    copyright=opt(text),
    usage_terms=opt(text),
    training_mining=opt(st.sampled_from(TrainingMining)),
    output_status=opt(st.sampled_from(OutputStatus)),
    personal_data=opt(st.booleans()),
    third_party_ip=opt(st.booleans()),
    training_data=opt(
        st.builds(TrainingData, provenance=opt(st.sampled_from(TrainingDataProvenance)), statement=opt(text))
    ),
    rights_holders=st.lists(text, max_size=3),
    likeness=st.lists(
        st.builds(
            Likeness,
            person=text,
            kind=st.sampled_from(LikenessKind),
            replica_type=opt(st.sampled_from(ReplicaType)),
            deceased=st.booleans(),
            consent=opt(consents),
        ),
        max_size=2,
    ),
    human_review=opt(
        st.builds(
            HumanReview,
            status=st.sampled_from(ReviewStatus),
            reviewer=opt(text),
            role=opt(text),
            date=opt(aware),
            notes=opt(text),
        )
    ),
    approval_reference=opt(text),
    approvals=st.lists(
        st.builds(
            Approval,
            category=st.sampled_from(ApprovalCategory),
            reference=opt(text),
            date=opt(dates),
            approver=opt(text),
        ),
        max_size=2,
    ),
    qc=opt(st.builds(QualityControl, by=opt(text), date=opt(aware))),
    synthetic_content=opt(
        st.builds(
            SyntheticContent,
            synthetic_person=opt(st.booleans()),
            real_person_recreation=opt(st.booleans()),
            audience_disclosure=opt(st.booleans()),
            disclosure_location=opt(text),
            union_notice_reference=opt(text),
        )
    ),
)
