"""Linear text classifiers for the plan's categorical fields (task category, loss function, metric, optimizer).

Text: the requirement, then the dataset attributes (`item_text`). Features: TF-IDF (sublinear tf) over word n-grams
and optionally `char_wb` n-grams (each vectoriser L2-normalised, side by side). Model: a linear SVM (one-vs-rest),
a ridge classifier (closed form) or a multinomial logistic regression. Labels are learnt and predicted as
`normalize_label` keys, the form the plan metrics' exact match compares; each key is written out in its most
frequent original spelling. Labels seen once are kept (they are often the right answer for a near-copy).

Model selection (`select_config`) is K-fold cross-validation over groups of near-duplicate texts, so that a held-out
text is about as far from the training texts as a validation item is from DLPlanData-train.

A fitted classifier saves to a folder without pickle: `classifier.json` (config, classes, spellings, the
vocabularies in column order) and `weights.safetensors` (idf vectors, int8 weights with one scale per class, biases).
Loading rebuilds scikit-learn vectorisers with the fixed vocabularies and idf vectors, so the transform is the fitted
one, term for term; the weights are quantised to int8 the moment they are fitted (cross-validation scores the
quantised model too), so a loaded classifier predicts exactly what the fitted one did.

    classifier = TextClassifier(TextClassifierConfig()).fit(texts, labels)
    classifier.predict(["Classify chest X-ray images as pneumonia or normal"])  # ['Image Classification']
    best, table = select_config(texts, labels, grid=default_grid(), folds=5)
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable, Iterable, Sequence

from dlcodegen.core.errors import MissingError
from dlcodegen.core.plan import normalize_label

FIELDS = ("task_category", "loss_function", "evaluation_metric", "optimizer")  # the classified plan fields
# The shipped classifiers are package data (pyproject.toml), so an installed wheel finds them here too.
DEFAULT_FOLDER = Path(__file__).resolve().parent / "plan_classifiers"
CONFIG_FILE = "classifier.json"
WEIGHTS_FILE = "weights.safetensors"
FORMAT_VERSION = 1
MODELS = ("svm", "logreg", "ridge")
# Near-duplicate texts (word TF-IDF cosine >= this) are held out together in cross-validation. With 0.75, a held-out
# DLPlanData-train text's nearest training text has a median cosine of 0.59 (0.70 with plain KFold); validation
# texts' nearest train text: 0.52. Plain KFold rewards memorising near-copies that validation and test do not have.
GROUP_THRESHOLD = 0.75



def item_text(requirement: str, attributes=None) -> str:
    """The text a classifier reads: the requirement, then the dataset attributes (a string, or a dict as JSON)."""
    if attributes is None:
        attributes = ""
    elif not isinstance(attributes, str):
        attributes = json.dumps(attributes, ensure_ascii=False)
    return f"{requirement} {attributes}".strip()


@dataclass(frozen=True)
class TextClassifierConfig:
    word_ngrams: tuple[int, int] | None = (1, 2)  # word n-gram range; None: no word features
    char_ngrams: tuple[int, int] | None = None  # char_wb n-gram range, e.g. (3, 5); None: no character features
    sublinear_tf: bool = True  # 1 + log(tf) instead of tf
    min_df: int = 2  # a term must occur in this many training texts
    max_features: int | None = None  # per vectoriser: keep the most frequent terms (None: all that pass min_df)
    # "svm": LinearSVC (one-vs-rest, squared hinge); "logreg": multinomial LogisticRegression;
    # "ridge": least squares one-vs-rest (RidgeClassifier, alpha = 1 / C), solved in closed form
    model: str = "svm"
    C: float = 1.0  # inverse regularisation strength
    class_weight: str | None = None  # None or "balanced"

    def __post_init__(self):
        for name in ("word_ngrams", "char_ngrams"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(int(v) for v in value))
                if len(getattr(self, name)) != 2 or not 1 <= value[0] <= value[1]:
                    raise ValueError(f"{name} must be a range (low, high) with 1 <= low <= high, got {value}")
        if self.word_ngrams is None and self.char_ngrams is None:
            raise ValueError("a classifier needs word or character features (word_ngrams and char_ngrams are None)")
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        if self.C <= 0 or self.min_df < 1 or (self.max_features is not None and self.max_features < 1):
            raise ValueError(f"invalid config {self}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TextClassifierConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}")
        return cls(**values)

    def features_key(self) -> tuple:
        """The parameters that shape the features (configs sharing it share a fitted vectoriser)."""
        return (self.word_ngrams, self.char_ngrams, self.sublinear_tf, self.min_df, self.max_features)

    def short(self) -> str:
        parts = []
        if self.word_ngrams:
            parts.append(f"word{self.word_ngrams[0]}-{self.word_ngrams[1]}")
        if self.char_ngrams:
            parts.append(f"char{self.char_ngrams[0]}-{self.char_ngrams[1]}")
        parts.append(f"min_df={self.min_df}")
        if self.max_features:
            parts.append(f"max={self.max_features}")
        if not self.sublinear_tf:
            parts.append("tf")
        parts.append(f"{self.model} C={self.C:g}")
        if self.class_weight:
            parts.append(self.class_weight)
        return " ".join(parts)


def default_grid() -> list[TextClassifierConfig]:
    """The grid `training/classifiers.py` searches by default: word n-grams (character n-grams were no better in
    grouped CV on DLPlanData and cost ten times the fitting time), vocabulary sizes, SVM and ridge strengths."""
    grid = []
    for word in ((1, 1), (1, 2), (1, 3)):
        for min_df, max_features in ((1, None), (2, None), (1, 3000), (1, 6000), (1, 12000)):
            if word == (1, 1) and max_features and max_features > 3000:
                continue  # about 4,300 single words in all: the same as (1, None)
            for model, C in (("svm", 1.0), ("svm", 3.0), ("ridge", 3.0), ("ridge", 10.0)):
                grid.append(TextClassifierConfig(word_ngrams=word, char_ngrams=None, min_df=min_df,
                                                 max_features=max_features, model=model, C=C))
    return grid


def small_grid() -> list[TextClassifierConfig]:
    """A quick grid (a few seconds a field) for trials."""
    return [TextClassifierConfig(word_ngrams=(1, 2), char_ngrams=None, min_df=1, max_features=6000, model="svm", C=1.0),
            TextClassifierConfig(word_ngrams=(1, 2), char_ngrams=None, min_df=1, max_features=6000, model="ridge", C=3.0),
            TextClassifierConfig(word_ngrams=(1, 1), char_ngrams=None, min_df=1, model="svm", C=1.0)]


# ---------------------------------------------------------------------------------------------------------------
# Features


def _vectorizer_options(config: TextClassifierConfig, kind: str) -> dict:
    import numpy as np

    ngrams = config.word_ngrams if kind == "word" else config.char_ngrams
    return {"analyzer": "word" if kind == "word" else "char_wb", "ngram_range": tuple(ngrams), "lowercase": True,
            "sublinear_tf": config.sublinear_tf, "norm": "l2", "use_idf": True, "smooth_idf": True,
            "dtype": np.float64}


class _Features:
    """Word and char_wb TF-IDF vectorisers side by side (scikit-learn's, so the transform is scikit-learn's)."""

    def __init__(self, config: TextClassifierConfig):
        self.config = config
        self.kinds = [kind for kind, ngrams in (("word", config.word_ngrams), ("char", config.char_ngrams))
                      if ngrams is not None]
        self.vectorizers: dict = {}

    def fit_transform(self, texts: Sequence[str]):
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer

        blocks = []
        for kind in self.kinds:
            min_df = self.config.min_df if len(texts) >= self.config.min_df else 1
            vectorizer = TfidfVectorizer(min_df=min_df, max_features=self.config.max_features,
                                         **_vectorizer_options(self.config, kind))
            blocks.append(vectorizer.fit_transform(texts))
            self.vectorizers[kind] = vectorizer
        return sparse.hstack(blocks, format="csr")

    def transform(self, texts: Sequence[str]):
        from scipy import sparse

        blocks = [self.vectorizers[kind].transform(texts) for kind in self.kinds]
        return blocks[0].tocsr() if len(blocks) == 1 else sparse.hstack(blocks, format="csr")

    @property
    def size(self) -> int:
        return sum(len(v.vocabulary_) for v in self.vectorizers.values())

    def state(self) -> tuple[dict, dict]:
        """(JSON part: vocabularies in column order, arrays: idf vectors)."""
        import numpy as np

        vocabularies, arrays = {}, {}
        for kind, vectorizer in self.vectorizers.items():
            terms = [None] * len(vectorizer.vocabulary_)
            for term, column in vectorizer.vocabulary_.items():
                terms[column] = term
            vocabularies[kind] = terms
            arrays[f"idf_{kind}"] = np.asarray(vectorizer.idf_, dtype=np.float64)
        return vocabularies, arrays

    @classmethod
    def from_state(cls, config: TextClassifierConfig, vocabularies: dict, arrays: dict) -> "_Features":
        from sklearn.feature_extraction.text import TfidfVectorizer

        features = cls(config)
        for kind in features.kinds:
            terms = vocabularies[kind]
            vectorizer = TfidfVectorizer(vocabulary={term: i for i, term in enumerate(terms)},
                                         **_vectorizer_options(config, kind))
            vectorizer.idf_ = arrays[f"idf_{kind}"]
            features.vectorizers[kind] = vectorizer
        return features


# ---------------------------------------------------------------------------------------------------------------
# Classifier


def _fit_linear(config: TextClassifierConfig, X, y, n_classes: int):
    """(int8 weights F x K, their scale per class, float32 biases K): scores = X @ (int8 * scale) + b."""
    import numpy as np

    if n_classes == 1:
        return np.zeros((X.shape[1], 1), np.int8), np.ones(1, np.float32), np.zeros(1, np.float32)
    if config.model == "ridge":
        return _fit_ridge(X, y, n_classes, alpha=1.0 / config.C, balanced=config.class_weight == "balanced")
    if config.model == "svm":
        from sklearn.svm import LinearSVC

        model = LinearSVC(C=config.C, class_weight=config.class_weight, max_iter=5000, random_state=0)
    else:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=config.C, class_weight=config.class_weight, max_iter=1000)
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    coef, intercept = np.asarray(model.coef_), np.asarray(model.intercept_)
    if coef.shape[0] == 1:  # binary: one score for classes_[1]; [-s, s] keeps argmax = sklearn's predict
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    return (*_quantize(coef.T), np.asarray(intercept, np.float32))


def _fit_ridge(X, y, n_classes: int, alpha: float, balanced: bool):
    """Least-squares one-vs-rest on +-1 targets (scikit-learn's RidgeClassifier), solved in the dual: one
    Cholesky factorisation of the texts' Gram matrix serves every class. The bias is a constant feature of 1."""
    import numpy as np
    import scipy.linalg

    targets = -np.ones((X.shape[0], n_classes))
    targets[np.arange(X.shape[0]), y] = 1.0
    gram = (X @ X.T).toarray() + 1.0
    if balanced:  # sample weights n / (classes * count): scale rows, as weighted least squares does
        counts = np.bincount(y, minlength=n_classes)
        root = np.sqrt(len(y) / (n_classes * counts[y]))
        gram, targets = gram * np.outer(root, root), targets * root[:, None]
        dual = scipy.linalg.solve(gram + alpha * np.eye(len(y)), targets, assume_a="pos") * root[:, None]
    else:
        dual = scipy.linalg.solve(gram + alpha * np.eye(len(y)), targets, assume_a="pos")
    return (*_quantize(np.asarray(X.T @ dual)), dual.sum(axis=0).astype(np.float32))


def _quantize(weights):
    """(int8 weights, float32 scale per class): weights ~ int8 * scale, each class column scaled to +-127."""
    import numpy as np

    weights = np.asarray(weights, dtype=np.float64)
    peak = np.abs(weights).max(axis=0) if weights.shape[0] else np.zeros(weights.shape[1])
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    return np.clip(np.rint(weights / scale), -127, 127).astype(np.int8), scale


def _dequantize(quantized, scale):
    import numpy as np

    return np.ascontiguousarray(quantized.astype(np.float32) * np.asarray(scale, np.float32))


def _model_bytes(features: "_Features", n_classes: int) -> int:
    """Bytes of the saved classifier, near enough: int8 weights, idf vectors and the vocabularies as JSON."""
    vocabulary = sum(len(term.encode("utf-8")) + 3 for v in features.vectorizers.values() for term in v.vocabulary_)
    return features.size * (n_classes + 8) + 8 * n_classes + vocabulary


class TextClassifier:
    """TF-IDF features + a linear model over normalised labels; predicts each label in its usual spelling."""

    def __init__(self, config: TextClassifierConfig | None = None,
                 normalize: Callable[[str | None], str | None] = normalize_label):
        self.config = config or TextClassifierConfig()
        self.normalize = normalize
        self.classes: list[str] = []  # normalised keys, in weight-column order
        self.spellings: dict[str, str] = {}  # key -> its most frequent original spelling
        self.counts: dict[str, int] = {}  # key -> training examples
        self.features: _Features | None = None
        self.weights = None  # float32 (features x classes), = int8 weights * per-class scale
        self._quantized = None  # (int8 weights, float32 scale), what save() writes
        self.bias = None  # float32 (classes,)
        self.info: dict = {}  # free-form metadata saved with the classifier (data, CV table, ...)

    # -- training ---------------------------------------------------------------------------------------------

    def fit(self, texts: Sequence[str], labels: Sequence[str | None]) -> "TextClassifier":
        """Train on the texts whose label normalises to a key (`None` labels are skipped)."""
        import numpy as np

        if len(texts) != len(labels):
            raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
        pairs = [(text, label, key) for text, label in zip(texts, labels)
                 if label is not None and (key := self.normalize(label))]
        if not pairs:
            raise ValueError("no labelled texts to train on")
        spellings: dict[str, Counter] = {}
        for _, label, key in pairs:
            spellings.setdefault(key, Counter())[str(label).strip()] += 1
        self.classes = sorted(spellings)
        # most frequent spelling; ties: the alphabetically first, so the choice does not depend on row order
        self.spellings = {key: min(c.items(), key=lambda item: (-item[1], item[0]))[0] for key, c in spellings.items()}
        self.counts = {key: sum(c.values()) for key, c in spellings.items()}
        index = {key: i for i, key in enumerate(self.classes)}
        self.features = _Features(self.config)
        X = self.features.fit_transform([text for text, _, _ in pairs])
        y = np.array([index[key] for _, _, key in pairs])
        quantized, scale, self.bias = _fit_linear(self.config, X, y, len(self.classes))
        self._quantized = (quantized, scale)
        self.weights = _dequantize(quantized, scale)
        return self

    # -- prediction -------------------------------------------------------------------------------------------

    def _check_fitted(self):
        if self.features is None or self.weights is None:
            raise RuntimeError("the classifier is not fitted: call fit() or TextClassifier.load()")

    def decision_function(self, texts: Sequence[str]):
        """Scores (texts x classes), columns in `self.classes` order."""
        self._check_fitted()
        if isinstance(texts, str):
            raise TypeError("decision_function takes a list of texts, not one string")
        features = self.features.transform(list(texts)).astype("float32")  # weights' dtype: no upcast copy of them
        return features @ self.weights + self.bias

    def predict_keys(self, texts: Sequence[str]) -> list[str]:
        """Normalised label keys."""
        scores = self.decision_function(texts)
        return [self.classes[i] for i in scores.argmax(axis=1).tolist()]

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Labels in their most frequent original spelling."""
        return [self.spellings[key] for key in self.predict_keys(texts)]

    def predict_one(self, requirement: str, attributes=None) -> str:
        """The label of one item (requirement + dataset attributes)."""
        return self.predict([item_text(requirement, attributes)])[0]

    # -- persistence ------------------------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        """`classifier.json` + `weights.safetensors` in `folder` (no pickle)."""
        import numpy as np
        from safetensors.numpy import save_file

        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        vocabularies, arrays = self.features.state()
        arrays["weights"], arrays["scale"] = self._quantized
        arrays["bias"] = np.asarray(self.bias, np.float32)
        save_file({name: np.ascontiguousarray(value) for name, value in arrays.items()}, str(folder / WEIGHTS_FILE))
        document = {"format": "dlcodegen-text-classifier", "version": FORMAT_VERSION,
                    "config": self.config.to_dict(), "classes": self.classes, "spellings": self.spellings,
                    "counts": self.counts, "info": self.info, "vocabularies": vocabularies}
        (folder / CONFIG_FILE).write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n",
                                          encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | Path, normalize: Callable[[str | None], str | None] = normalize_label
             ) -> "TextClassifier":
        import numpy as np
        from safetensors.numpy import load_file

        folder = Path(folder)
        if not (folder / CONFIG_FILE).is_file() or not (folder / WEIGHTS_FILE).is_file():
            raise MissingError(f"{folder} is not a text classifier folder ({CONFIG_FILE} and {WEIGHTS_FILE})")
        document = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        if document.get("format") != "dlcodegen-text-classifier" or document.get("version") != FORMAT_VERSION:
            raise ValueError(f"{folder / CONFIG_FILE} is not a version-{FORMAT_VERSION} dlcodegen text classifier")
        arrays = load_file(str(folder / WEIGHTS_FILE))
        if arrays["weights"].dtype != np.int8:
            raise ValueError(f"{folder / WEIGHTS_FILE}: weights must be int8, got {arrays['weights'].dtype}")
        classifier = cls(TextClassifierConfig.from_dict(document["config"]), normalize)
        classifier.classes = list(document["classes"])
        classifier.spellings = dict(document["spellings"])
        classifier.counts = dict(document.get("counts", {}))
        classifier.info = dict(document.get("info", {}))
        classifier.features = _Features.from_state(classifier.config, document["vocabularies"], arrays)
        classifier._quantized = (arrays["weights"], arrays["scale"])
        classifier.weights = _dequantize(arrays["weights"], arrays["scale"])
        classifier.bias = arrays["bias"].astype(np.float32)
        if classifier.weights.shape != (classifier.features.size, len(classifier.classes)):
            raise ValueError(f"{folder}: weights of shape {classifier.weights.shape} do not match "
                             f"{classifier.features.size} features x {len(classifier.classes)} classes")
        return classifier

    def __repr__(self) -> str:
        state = (f"{len(self.classes)} classes, {self.features.size} features" if self.features else "not fitted")
        return f"TextClassifier({self.config.short()}; {state})"


def load_classifiers(folder: str | Path = DEFAULT_FOLDER, names: Iterable[str] = FIELDS) -> dict[str, TextClassifier]:
    """`{field: TextClassifier}` for each `folder/<field>/` present (the shipped DEFAULT_FOLDER)."""
    folder = Path(folder)
    found = {name: TextClassifier.load(folder / name) for name in names if (folder / name / CONFIG_FILE).is_file()}
    if not found:
        raise MissingError(f"no plan field classifiers under {folder} "
                                "(train them: python -m dlcodegen.training.classifiers)")
    return found


# ---------------------------------------------------------------------------------------------------------------
# Model selection


def near_duplicate_groups(texts: Sequence[str], threshold: float = GROUP_THRESHOLD):
    """Group id of each text: connected components of the graph whose edges join texts with a word TF-IDF cosine
    of at least `threshold` (DLPlanData-train holds many near-copies of one notebook's requirement)."""
    import numpy as np
    from scipy.sparse.csgraph import connected_components
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectors = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
    similar = vectors @ vectors.T
    similar.data = (similar.data >= threshold).astype(np.int8)
    similar.eliminate_zeros()
    return connected_components(similar, directed=False)[1]


def cv_splits(n: int, folds: int = 5, seed: int = 0, groups=None) -> list[tuple]:
    """Shuffled (Group)KFold index pairs: not stratified, since many labels have a single example and stay in;
    with `groups`, the texts of a group are held out together."""
    from sklearn.model_selection import GroupKFold, KFold

    if n < 2:
        raise ValueError("cross-validation needs at least two labelled texts")
    if groups is None:
        return list(KFold(n_splits=min(folds, n), shuffle=True, random_state=seed).split(range(n)))
    folds = min(folds, len(set(groups)))
    if folds < 2:
        raise ValueError("grouped cross-validation needs at least two groups")
    return list(GroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(range(n), groups=groups))


def _cv_fold(configs: list[TextClassifierConfig], texts: list[str], keys, train, held) -> list[tuple]:
    """(accuracy %, seconds) of each config (all sharing their features) on one fold."""
    import numpy as np

    start = time.perf_counter()
    features = _Features(configs[0])
    X_train = features.fit_transform([texts[i] for i in train])
    X_held = features.transform([texts[i] for i in held])
    shared = time.perf_counter() - start
    classes = sorted(set(keys[train]))
    index = {key: i for i, key in enumerate(classes)}
    y_train = np.array([index[k] for k in keys[train]])
    results = []
    for config in configs:
        start = time.perf_counter()
        quantized, scale, bias = _fit_linear(config, X_train, y_train, len(classes))
        weights = _dequantize(quantized, scale)
        scores = X_held.astype(np.float32) @ weights + bias
        predicted = np.asarray(classes, dtype=object)[scores.argmax(axis=1)]
        results.append((100.0 * float(np.mean(predicted == keys[held])), shared + time.perf_counter() - start))
    return results


def select_config(texts: Sequence[str], labels: Sequence[str | None], grid: Sequence[TextClassifierConfig],
                  folds: int = 5, seed: int = 0, normalize: Callable[[str | None], str | None] = normalize_label,
                  group_threshold: float | None = GROUP_THRESHOLD, max_bytes: int | None = None,
                  tolerance: float = 0.0, n_jobs: int = 1, groups: Sequence[int] | None = None
                  ) -> tuple[TextClassifierConfig, list[dict]]:
    """The grid's config with the best K-fold accuracy (on normalised keys), and the table of all of them.

    Unlabelled texts are left out. Folds are shuffled GroupKFold over near-duplicate groups (`near_duplicate_groups`
    at `group_threshold`; None: plain shuffled KFold), not stratified: a label whose only examples fall in the
    held-out fold counts as a miss, as it would on new data.

    Size: `max_bytes` leaves out the configs whose classifier, fitted on all the texts, would save to more bytes
    (all over: the smallest is chosen); with `tolerance` > 0 (accuracy points), the smallest config within
    `tolerance` of the best remaining one is chosen. Table rows, in grid order: config, name, accuracy (mean % over
    folds), std, folds, features and bytes (of the classifier fitted on all the texts), seconds (all folds), chosen.
    `n_jobs` > 1 runs folds in parallel (joblib). `groups` (one id per text) replaces the near-duplicate groups:
    texts made from one item are held out together.
    """
    import numpy as np

    if not grid:
        raise ValueError("select_config needs a non-empty grid")
    given = groups if groups is not None else [0] * len(texts)
    triples = [(text, key, group) for text, label, group in zip(texts, labels, given)
               if label is not None and (key := normalize(label))]
    texts_, keys = [t for t, _, _ in triples], np.array([k for _, k, _ in triples], dtype=object)
    if groups is not None:
        fold_groups = [g for _, _, g in triples]
    else:
        fold_groups = None if group_threshold is None else near_duplicate_groups(texts_, group_threshold)
    splits = cv_splits(len(triples), folds, seed, fold_groups)
    shared: dict[tuple, list[int]] = {}
    for position, config in enumerate(grid):
        shared.setdefault(config.features_key(), []).append(position)
    sizes = {}  # features key -> (features, bytes) of the classifier fitted on all the texts
    for key, positions in shared.items():
        features = _Features(grid[positions[0]])
        features.fit_transform(texts_)
        sizes[key] = (features.size, _model_bytes(features, len(set(keys))))
    per_config = _cv_results(grid, shared, splits, texts_, keys, n_jobs)
    table = [_table_row(config, per_config[p], sizes[config.features_key()]) for p, config in enumerate(grid)]
    chosen = _chosen(table, max_bytes, tolerance)
    for p, row in enumerate(table):
        row["chosen"] = p == chosen
    return grid[chosen], table


def _cv_results(grid, groups: dict[tuple, list[int]], splits, texts, keys, n_jobs: int) -> dict[int, list[tuple]]:
    """Per grid position, the (accuracy, seconds) of each fold; configs sharing features are fitted together."""
    jobs = [(positions, train, held) for positions in groups.values() for train, held in splits]
    if n_jobs == 1:
        outcomes = [_cv_fold([grid[p] for p in positions], texts, keys, train, held) for positions, train, held in jobs]
    else:
        from joblib import Parallel, delayed

        outcomes = Parallel(n_jobs=n_jobs)(delayed(_cv_fold)([grid[p] for p in positions], texts, keys, train, held)
                                           for positions, train, held in jobs)
    per_config: dict[int, list[tuple]] = {p: [] for p in range(len(grid))}
    for (positions, _, _), outcome in zip(jobs, outcomes):
        for p, result in zip(positions, outcome):
            per_config[p].append(result)
    return per_config


def _table_row(config: TextClassifierConfig, results: list[tuple], size: tuple[int, int]) -> dict:
    import numpy as np

    scores = [r[0] for r in results]
    return {"config": config.to_dict(), "name": config.short(), "accuracy": round(float(np.mean(scores)), 3),
            "std": round(float(np.std(scores)), 3), "folds": [round(s, 2) for s in scores],
            "features": size[0], "bytes": size[1], "seconds": round(sum(r[1] for r in results), 2)}


def _chosen(table: list[dict], max_bytes: int | None, tolerance: float) -> int:
    """The chosen row: the most accurate within `max_bytes` (or the smallest within `tolerance` of it)."""
    allowed = [p for p, row in enumerate(table) if max_bytes is None or row["bytes"] <= max_bytes]
    if not allowed:
        allowed = [min(range(len(table)), key=lambda p: (table[p]["bytes"], -table[p]["accuracy"], p))]
    best = max(table[p]["accuracy"] for p in allowed)
    if tolerance > 0:
        candidates = [p for p in allowed if table[p]["accuracy"] >= best - tolerance]
        return min(candidates, key=lambda p: (table[p]["bytes"], -table[p]["accuracy"], p))
    return max(allowed, key=lambda p: (table[p]["accuracy"], -p))


def field_texts_labels(rows, name: str) -> tuple[list[str], list[str | None]]:
    """(item texts, labels of field `name`) of DLPlanData rows (a split or a list of dicts)."""
    rows = list(rows)
    return ([item_text(row["user_requirement"], row["dataset_attributes"]) for row in rows],
            [row[name] for row in rows])


def fit_classifiers(rows, names: Iterable[str] = FIELDS,
                    config: TextClassifierConfig | None = None) -> dict[str, TextClassifier]:
    """A classifier per field fitted on DLPlanData rows (when no saved folder is at hand); default config."""
    return {name: TextClassifier(config).fit(*field_texts_labels(rows, name)) for name in names}
