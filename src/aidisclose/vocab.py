"""Controlled vocabularies of the disclosure record and their standard URIs."""

from __future__ import annotations

from enum import StrEnum

IPTC_DST_BASE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
#: C2PA 2.2 §18.14.4.5: terms C2PA defines itself (not in the IPTC vocabulary) live under this base.
C2PA_DST_BASE = "http://c2pa.org/digitalsourcetype/"
PLUS_DMI_BASE = "http://ns.useplus.org/ldf/vocab/"


class DigitalSourceType(StrEnum):
    """IPTC Digital Source Type terms, keyed by their short name."""

    digitalCapture = "digitalCapture"
    computationalCapture = "computationalCapture"
    negativeFilm = "negativeFilm"
    positiveFilm = "positiveFilm"
    print = "print"
    humanEdits = "humanEdits"
    compositeCapture = "compositeCapture"
    algorithmicallyEnhanced = "algorithmicallyEnhanced"
    digitalCreation = "digitalCreation"
    dataDrivenMedia = "dataDrivenMedia"
    trainedAlgorithmicMedia = "trainedAlgorithmicMedia"
    compositeWithTrainedAlgorithmicMedia = "compositeWithTrainedAlgorithmicMedia"
    compositeSynthetic = "compositeSynthetic"
    algorithmicMedia = "algorithmicMedia"
    screenCapture = "screenCapture"
    virtualRecording = "virtualRecording"
    composite = "composite"
    trainedAlgorithmicData = "trainedAlgorithmicData"
    # Retired by IPTC: still found in files, so they are read, never written.
    minorHumanEdits = "minorHumanEdits"
    digitalArt = "digitalArt"
    softwareImage = "softwareImage"

    @property
    def uri(self) -> str:
        return source_type_uri(self.value)

    @property
    def implies_ai(self) -> bool:
        return self in AI_SOURCE_TYPES

    @property
    def retired(self) -> bool:
        return self in RETIRED_SOURCE_TYPES


AI_SOURCE_TYPES = frozenset(
    {
        DigitalSourceType.trainedAlgorithmicMedia,
        DigitalSourceType.compositeWithTrainedAlgorithmicMedia,
        DigitalSourceType.algorithmicMedia,
        DigitalSourceType.algorithmicallyEnhanced,
        DigitalSourceType.compositeSynthetic,
        DigitalSourceType.dataDrivenMedia,
        DigitalSourceType.trainedAlgorithmicData,
    }
)

#: Retired term -> the current term to write instead.
RETIRED_SOURCE_TYPES: dict[DigitalSourceType, DigitalSourceType] = {
    DigitalSourceType.minorHumanEdits: DigitalSourceType.humanEdits,
    DigitalSourceType.digitalArt: DigitalSourceType.digitalCreation,
    DigitalSourceType.softwareImage: DigitalSourceType.digitalCreation,
}


#: Terms of the C2PA digital source type vocabulary, written under ``C2PA_DST_BASE``.
C2PA_SOURCE_TYPES = frozenset({DigitalSourceType.trainedAlgorithmicData})


def source_type_uri(term: str) -> str:
    """The full URI of a digital source type: C2PA's own terms under c2pa.org, the rest under IPTC."""
    return (C2PA_DST_BASE if term in C2PA_SOURCE_TYPES else IPTC_DST_BASE) + term


def source_type_from_uri(uri: str) -> str:
    """The short key of an IPTC or C2PA source-type URI; other strings come back as given, less white space.

    Surrounding white space is ignored: files in the wild carry ``" http://…/digitalCapture"``.
    """
    text = uri.strip()
    for base in (IPTC_DST_BASE, C2PA_DST_BASE):
        if text.startswith(base) and len(text) > len(base):
            return text[len(base) :]
    return text


class TrainingMining(StrEnum):
    allowed = "allowed"
    not_allowed = "not-allowed"
    constrained = "constrained"


#: How each training/mining choice is written to PLUS DataMining, and how
#: every PLUS value is read back.
TRAINING_MINING_TO_PLUS: dict[TrainingMining, str] = {
    TrainingMining.allowed: "DMI-ALLOWED",
    TrainingMining.not_allowed: "DMI-PROHIBITED-AIMLTRAINING",
    TrainingMining.constrained: "DMI-PROHIBITED-SEECONSTRAINT",
}
PLUS_TO_TRAINING_MINING: dict[str, TrainingMining] = {
    "DMI-ALLOWED": TrainingMining.allowed,
    "DMI-PROHIBITED-AIMLTRAINING": TrainingMining.not_allowed,
    "DMI-PROHIBITED-GENAIMLTRAINING": TrainingMining.not_allowed,
    "DMI-PROHIBITED": TrainingMining.not_allowed,
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING": TrainingMining.not_allowed,
    "DMI-PROHIBITED-SEECONSTRAINT": TrainingMining.constrained,
}


class Deliverable(StrEnum):
    final = "final"
    temp = "temp"
    marketing = "marketing"
    internal = "internal"


class Genre(StrEnum):
    fiction = "fiction"
    documentary = "documentary"
    news = "news"
    reality = "reality"
    animation = "animation"
    advertising = "advertising"
    other = "other"


class TrainingDataProvenance(StrEnum):
    licensed = "licensed"
    owned = "owned"
    public_domain = "public-domain"
    unknown = "unknown"


class LikenessKind(StrEnum):
    likeness = "likeness"
    voice = "voice"
    both = "both"


class ReplicaType(StrEnum):
    employment_based = "employment-based"
    independently_created = "independently-created"
    background = "background"
    synthetic_performer = "synthetic-performer"


class ConsentStatus(StrEnum):
    granted = "granted"
    pending = "pending"
    denied = "denied"
    revoked = "revoked"


class GrantedBy(StrEnum):
    self = "self"
    estate = "estate"
    representative = "representative"
    union = "union"


class ReviewStatus(StrEnum):
    approved = "approved"
    rejected = "rejected"
    pending = "pending"


class ApprovalCategory(StrEnum):
    """What a written approval covers: the four cases Netflix's partner guidance "Using Generative AI in
    Content Production" (Aug 2025) says need written approval before proceeding."""

    final_deliverable = "final-deliverable"
    talent_likeness = "talent-likeness"
    personal_data = "personal-data"
    third_party_ip = "third-party-ip"


class OutputStatus(StrEnum):
    """Whether the generated material is a temporary stand-in or meant to stay in the final deliverable."""

    temporary = "temporary"
    final = "final"


class Representation(StrEnum):
    """Who represented the performer when the digital-replica consent was given (California AB 2602)."""

    union = "union"
    counsel = "counsel"
    none = "none"
