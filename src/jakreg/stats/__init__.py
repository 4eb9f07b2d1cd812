"""Statistics as result objects: numbers as data, with `to_dict()` and `summary()` renderers."""

from jakreg.stats._common import StatsInputError
from jakreg.stats.describe import (
    CategoricalSummary,
    CategoryCount,
    ContinuousSummary,
    describe_categorical,
    describe_continuous,
)
from jakreg.stats.groups import (
    FisherExactResult,
    MannWhitneyResult,
    fisher_exact_test,
    mann_whitney,
)
from jakreg.stats.paired import (
    DIRECTION,
    PairCounts,
    PairedComparison,
    RankBiserialResult,
    SignTestResult,
    WilcoxonResult,
    compare_paired,
)
from jakreg.stats.signed_rank import HodgesLehmannResult, hodges_lehmann
from jakreg.stats.survival import (
    CauseIncidence,
    CumulativeIncidenceResult,
    KaplanMeierResult,
    StepCurve,
    ValueAtTime,
    cumulative_incidence,
    kaplan_meier,
)
from jakreg.stats.survival_plot import plot_cumulative_incidence, plot_km

__all__ = [
    "DIRECTION",
    "CategoricalSummary",
    "CategoryCount",
    "CauseIncidence",
    "ContinuousSummary",
    "CumulativeIncidenceResult",
    "FisherExactResult",
    "HodgesLehmannResult",
    "KaplanMeierResult",
    "MannWhitneyResult",
    "PairCounts",
    "PairedComparison",
    "RankBiserialResult",
    "SignTestResult",
    "StatsInputError",
    "StepCurve",
    "ValueAtTime",
    "WilcoxonResult",
    "compare_paired",
    "cumulative_incidence",
    "describe_categorical",
    "describe_continuous",
    "fisher_exact_test",
    "hodges_lehmann",
    "kaplan_meier",
    "mann_whitney",
    "plot_cumulative_incidence",
    "plot_km",
]
