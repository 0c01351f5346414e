"""Controlled vocabularies of the disclosure record and their standard URIs."""

from __future__ import annotations

from enum import StrEnum

IPTC_DST_BASE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
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
        return IPTC_DST_BASE + self.value

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


def source_type_from_uri(uri: str) -> str:
    """The short key of an IPTC source-type URI; other strings come back unchanged."""
    if uri.startswith(IPTC_DST_BASE):
        return uri[len(IPTC_DST_BASE) :]
    return uri


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
