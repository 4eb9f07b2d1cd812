"""The packaged literature set: 8 cases, every value with its source tag, blank kept as unknown."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
from importlib import resources
from typing import Any

import pytest
import yaml

from jakreg.literature import (
    Confidence,
    FlagCode,
    LiteratureDataError,
    LiteratureSet,
    UnknownCaseError,
    classify_source,
    codon_mismatch,
    load_cases,
    parse_cases,
)
from jakreg.model.vocab import Drug, Sex

CASE_IDS = [
    "Weinacht-2017-P1",
    "Zimmerman-2017-P1",
    "Zimmerman-2017-P4",
    "Zimmerman-2019-P1",
    "Chaimowitz-2020-P1",
    "Rosenberg-2022-P1",
    "Staels-2023-P1",
    "JClinImmunol-2024-01687-P1",
]
# value column -> its source column, as in literature_cases.md
SOURCE_OF = {
    "first_author": "first_author_src",
    "year": "year_src",
    "journal": "journal_src",
    "title": "title_src",
    "pmid": "ids_src",
    "doi": "ids_src",
    "pmcid": "ids_src",
    "age_at_jakinib_start_years": "age_at_jakinib_start_src",
    "age_as_described": "age_as_described_src",
    "sex": "sex_src",
    "stat1_variant_protein": "stat1_variant_protein_src",
    "stat1_variant_cdna": "stat1_variant_cdna_src",
    "domain": "domain_src",
    "main_manifestations": "main_manifestations_src",
    "jakinib": "jakinib_src",
    "dose": "dose_src",
    "indication": "indication_src",
    "response": "response_src",
    "response_authors_words": "response_src",
    "adverse_events": "adverse_events_src",
    "discontinued": "discontinuation_src",
    "discontinuation_reason": "discontinuation_src",
    "hsct_before": "hsct_src",
    "hsct_after": "hsct_src",
    "followup": "followup_src",
}


def _raw() -> tuple[bytes, dict[str, Any]]:
    root = resources.files("jakreg.literature")
    data = root.joinpath("data/literature_cases.csv").read_bytes()
    meta = yaml.safe_load(root.joinpath("data/literature_cases.meta.yaml").read_text("utf-8"))
    return data, meta


def _rows() -> dict[str, dict[str, str]]:
    data, _ = _raw()
    return {r["case_id"]: r for r in csv.DictReader(io.StringIO(data.decode("utf-8")))}


@pytest.fixture(scope="module")
def lit() -> LiteratureSet:
    return load_cases()


def test_the_eight_cases_load_in_file_order(lit: LiteratureSet) -> None:
    assert [c.case_id for c in lit] == CASE_IDS
    assert len(lit) == 8
    assert lit.n_publications == 7


def test_the_sidecar_describes_the_set(lit: LiteratureSet) -> None:
    assert lit.info.version == "2026-11"
    assert lit.info.curation_date == "2026-11-24"
    assert lit.info.inclusion_criteria == (
        "A named publication reporting at least one individual with STAT1 GOF who received a "
        "JAK inhibitor in vivo."
    )
    assert any("Baris 2016" in x for x in lit.info.exclusion_criteria)


def test_the_packaged_csv_is_the_shared_reference_unchanged() -> None:
    data, meta = _raw()
    assert data.decode("utf-8").startswith("case_id,first_author,first_author_src,year,")
    assert meta["n_cases"] == 8
    # the loader itself checks the checksum; an edited file must come with a new sidecar
    with pytest.raises(LiteratureDataError) as exc:
        parse_cases(data.replace(b"Weinacht KG", b"Weinacht K"), meta)
    assert str(exc.value).startswith("literature_cases.csv does not match its sidecar (sha256 ")
    assert str(exc.value).endswith(
        "after editing the cases, update version, curation_date and sha256 in the sidecar"
    )


def test_every_value_keeps_its_source_tag_and_blank_stays_none(lit: LiteratureSet) -> None:
    rows = _rows()
    for case in lit:
        row = rows[case.case_id]
        values = {**case.citation_values(), **case.clinical_values()}
        assert set(values) == set(SOURCE_OF)
        for column, src_column in SOURCE_OF.items():
            sourced = values[column]
            assert sourced.source == row[src_column].strip(), (case.case_id, column)
            if not row[column].strip():
                assert sourced.value is None, (case.case_id, column)
                assert sourced.confidence is Confidence.not_reported
            else:
                assert sourced.confidence is not Confidence.not_reported, (case.case_id, column)
                assert sourced.source, (case.case_id, column)


@pytest.mark.parametrize(
    ("case_id", "column", "confidence"),
    [
        ("Weinacht-2017-P1", "jakinib", Confidence.primary),
        ("Weinacht-2017-P1", "year", Confidence.unverified),
        ("Weinacht-2017-P1", "journal", Confidence.not_reported),
        ("Zimmerman-2017-P1", "sex", Confidence.secondary),
        ("Zimmerman-2017-P1", "pmid", Confidence.primary),
        ("Rosenberg-2022-P1", "doi", Confidence.secondary),  # read in a PubMed mirror
        ("Chaimowitz-2020-P1", "sex", Confidence.lay),
        ("Chaimowitz-2020-P1", "first_author", Confidence.unverified),
        ("Chaimowitz-2020-P1", "title", Confidence.not_reported),
        ("JClinImmunol-2024-01687-P1", "year", Confidence.unverified),
        ("JClinImmunol-2024-01687-P1", "journal", Confidence.unverified),
    ],
)
def test_confidence_follows_the_source_tag(
    lit: LiteratureSet, case_id: str, column: str, confidence: Confidence
) -> None:
    case = lit.case(case_id)
    values = {**case.citation_values(), **case.clinical_values()}
    assert values[column].confidence is confidence


def test_an_unknown_source_tag_stops_the_load() -> None:
    assert classify_source("overheard at a conference") is None
    data, meta = _raw()
    text = data.decode("utf-8").replace(
        "abstract: 'Treatment with the Janus kinase 1/2 inhibitor ruxolitinib'",
        "a colleague said so",
    )
    changed = text.encode("utf-8")
    meta = {**meta, "sha256": hashlib.sha256(changed).hexdigest()}
    with pytest.raises(LiteratureDataError) as exc:
        parse_cases(changed, meta)
    assert str(exc.value) == (
        "Weinacht-2017-P1, column jakinib_src: unknown source tag 'a colleague said so'"
    )


def test_no_case_states_the_age_at_jakinib_start(lit: LiteratureSet) -> None:
    for case in lit:
        assert case.age_at_jakinib_start_years.value is None
        assert case.age_at_jakinib_start_years.confidence is Confidence.not_reported


def test_age_as_described_is_a_number_only_where_one_number_is_stated(
    lit: LiteratureSet,
) -> None:
    ages = {c.case_id: c.age_as_described for c in lit}
    assert ages["Zimmerman-2017-P1"].value == 42
    assert ages["Zimmerman-2017-P4"].value == 27
    assert ages["Rosenberg-2022-P1"].value == 18
    assert ages["Rosenberg-2022-P1"].raw == "18 (at presentation)"
    assert ages["Weinacht-2017-P1"].value is None
    assert ages["Weinacht-2017-P1"].raw == "child"
    assert ages["Chaimowitz-2020-P1"].value is None  # 15 and 17, for other events
    assert ages["Chaimowitz-2020-P1"].raw == "15 at presentation; 17 at T1D diagnosis"
    assert ages["Staels-2023-P1"].value is None


def test_drugs_and_sex_are_normalised_with_the_cell_kept(lit: LiteratureSet) -> None:
    drugs = [c.jakinib.value for c in lit]
    assert drugs.count(Drug.ruxolitinib) == 6
    assert drugs.count(Drug.baricitinib) == 1
    assert drugs.count(Drug.itacitinib) == 1
    assert lit.case("Rosenberg-2022-P1").jakinib.raw == "itacitinib (JAK1 inhibitor)"
    sexes = {c.case_id: c.sex.value for c in lit}
    assert sexes["Zimmerman-2017-P4"] is Sex.female
    assert sexes["Chaimowitz-2020-P1"] is Sex.male
    assert sexes["Weinacht-2017-P1"] is None


def test_discontinued_is_yes_or_unknown_never_an_invented_no(lit: LiteratureSet) -> None:
    stopped = {c.case_id: c.discontinued.value for c in lit}
    assert stopped == {
        "Weinacht-2017-P1": None,
        "Zimmerman-2017-P1": True,
        "Zimmerman-2017-P4": None,
        "Zimmerman-2019-P1": True,
        "Chaimowitz-2020-P1": None,
        "Rosenberg-2022-P1": None,
        "Staels-2023-P1": None,
        "JClinImmunol-2024-01687-P1": None,
    }


def test_citations(lit: LiteratureSet) -> None:
    z = lit.case("Zimmerman-2017-P1").citation
    assert z.identifier() == "PMID:29226168"
    assert z.label() == "Zimmerman O 2017, Open Forum Infectious Diseases"
    assert z.pmcid.value == "PMC5714179"
    assert lit.case("Staels-2023-P1").citation.identifier() == "DOI:10.3389/fimmu.2023.1095595"
    assert lit.case("Chaimowitz-2020-P1").citation.identifier() is None
    assert lit.case("Weinacht-2017-P1").citation.identifier() is None


def test_the_flagged_variant_is_flagged_and_kept_as_printed(lit: LiteratureSet) -> None:
    case = lit.case("Zimmerman-2017-P4")
    assert case.has_flag(FlagCode.variant_flagged)
    assert case.has_flag(FlagCode.variant_codon_mismatch)
    assert case.stat1_variant_protein.value == "p.E355K"
    assert case.stat1_variant_protein.raw == "p.E355K (as printed; see notes)"
    assert case.stat1_variant_cdna.value == "c.1057G>A"
    others = [c for c in lit if c.case_id != "Zimmerman-2017-P4"]
    assert not any(c.has_flag(FlagCode.variant_flagged) for c in others)
    assert not any(c.has_flag(FlagCode.variant_codon_mismatch) for c in others)


def test_codon_check() -> None:
    assert codon_mismatch("c.820C>T", "p.R274W") is None
    assert codon_mismatch("c.1154C>T", "p.T385M") is None
    assert codon_mismatch("c.821G>A", "p.Arg274Gln") is None
    assert codon_mismatch("c.1057G>A", "p.E355K") == (
        "c.1057G>A lies in codon 353, but the protein change p.E355K names codon 355"
    )
    assert codon_mismatch("c.1057G>A", None) is None
    assert codon_mismatch("c.1057_1058del", "p.E355K") is None  # not a simple substitution


def test_the_possible_duplicate_is_a_labelled_judgement(lit: LiteratureSet) -> None:
    case = lit.case("Zimmerman-2019-P1")
    assert case.possible_duplicate_of == ("Zimmerman-2017-P1", "Zimmerman-2017-P4")
    assert case.derived.possible_duplicate_of.kind == "derived judgement"
    assert case.has_flag(FlagCode.possible_duplicate)
    assert lit.n_distinct_people == 7
    assert [c.case_id for c in lit if c.possible_duplicate_of] == ["Zimmerman-2019-P1"]


def test_derived_columns_are_parsed_and_keep_the_curators_words(lit: LiteratureSet) -> None:
    lt18 = {c.case_id: c.derived.age_lt18_at_start for c in lit}
    assert lt18["Weinacht-2017-P1"].value is True
    assert lt18["Zimmerman-2017-P1"].value is False
    assert lt18["Rosenberg-2022-P1"].value is False
    assert lt18["Rosenberg-2022-P1"].text == "no/borderline (18 at presentation)"
    assert lt18["Chaimowitz-2020-P1"].value is None
    assert lt18["Staels-2023-P1"].value is None
    core = [c.derived.core_fields_filled_of_14.value for c in lit]
    assert core == [5, 11, 6, 3, 9, 5, 5, 1]
    guess = lit.case("Weinacht-2017-P1").derived.possible_deya14_guess
    assert (guess.value, guess.text, guess.kind) == (
        "plausible",
        "plausible (our guess)",
        "derived judgement",
    )


def test_low_confidence_sources_are_flagged(lit: LiteratureSet) -> None:
    chaimowitz = lit.case("Chaimowitz-2020-P1")
    assert chaimowitz.has_flag(FlagCode.lay_sources)
    assert chaimowitz.sex.low_confidence
    assert not lit.case("Rosenberg-2022-P1").has_flag(FlagCode.lay_sources)


def test_objects_are_frozen_and_unknown_case_is_a_named_error(lit: LiteratureSet) -> None:
    case = lit.case("Staels-2023-P1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.case_id = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.sex.value = None  # type: ignore[misc]
    with pytest.raises(UnknownCaseError, match="no case 'Nobody-2020-P1' in the literature set"):
        lit.case("Nobody-2020-P1")
