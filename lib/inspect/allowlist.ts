import type { GlobalStatus } from "./types";

// Exact (module, name) pairs seen in real scikit-learn 1.0-1.6 / numpy 1.x-2.x / scipy / joblib artifacts.
// Never match by prefix: sklearn.utils._testing.assert_run_python_script and
// numpy.testing._private.utils.runstring live under "trusted" packages and run arbitrary code.
//
// Before adding a callable, check two things, because joblib reads inline array bytes after BUILD on
// *any* NumpyArrayWrapper instance and the inspector must know exactly which objects those are:
// does it instantiate a class it is given (copyreg._reconstructor, sklearn's newObj helpers), or can
// it return an object it is given (numpy scalar() with an object dtype, numpy.object_)? If so it
// needs a role in pickle-machine.ts ROLES, or the file could hide bytes from the inspector.
const ALLOWED: readonly string[] = [
  // Observed in the registry-basic corpus (MANIFEST observed_benign_globals).
  "__builtin__.slice",
  "_codecs.encode",
  "builtins.slice",
  "joblib.numpy_pickle.NumpyArrayWrapper",
  "numpy.core.multiarray._reconstruct",
  "numpy.core.multiarray.scalar",
  "numpy.dtype",
  "numpy.float64",
  "numpy.ndarray",
  "sklearn.compose._column_transformer.ColumnTransformer",
  "sklearn.linear_model._logistic.LogisticRegression",
  "sklearn.pipeline.Pipeline",
  "sklearn.preprocessing._data.StandardScaler",
  "sklearn.preprocessing._encoders.OneHotEncoder",

  // Python containers and reconstruction helpers that pickle itself emits.
  "builtins.object",
  "builtins.set",
  "builtins.frozenset",
  "builtins.bytearray",
  "builtins.complex",
  "builtins.range",
  "__builtin__.object",
  "__builtin__.set",
  "__builtin__.frozenset",
  "__builtin__.bytearray",
  "__builtin__.complex",
  "collections.OrderedDict",
  "collections.defaultdict",
  "copyreg._reconstructor",
  "copy_reg._reconstructor",

  // numpy (1.x "numpy.core" and 2.x "numpy._core" spellings).
  "numpy._core.multiarray._reconstruct",
  "numpy._core.multiarray.scalar",
  "numpy.core.numeric._frombuffer",
  "numpy._core.numeric._frombuffer",
  "numpy.ma.core._mareconstruct",
  "numpy.ma.core.MaskedArray",
  "numpy.matrixlib.defmatrix.matrix",
  "numpy.random._pickle.__randomstate_ctor",
  "numpy.random._pickle.__bit_generator_ctor",
  "numpy.random._pickle.__generator_ctor",
  "numpy.random._mt19937.MT19937",
  "numpy.random._pcg64.PCG64",
  "numpy.bool_",
  "numpy.object_",
  "numpy.str_",
  "numpy.bytes_",
  "numpy.float16",
  "numpy.float32",
  "numpy.complex64",
  "numpy.complex128",
  "numpy.int8",
  "numpy.int16",
  "numpy.int32",
  "numpy.int64",
  "numpy.uint8",
  "numpy.uint16",
  "numpy.uint32",
  "numpy.uint64",
  "numpy.intc",
  "numpy.dtypes.Float64DType",
  "numpy.dtypes.Float32DType",
  "numpy.dtypes.Int64DType",
  "numpy.dtypes.Int32DType",
  "numpy.dtypes.ObjectDType",
  "numpy.dtypes.BoolDType",

  // scipy.sparse (private module paths since scipy 1.8, public before).
  "scipy.sparse._csr.csr_matrix",
  "scipy.sparse._csc.csc_matrix",
  "scipy.sparse._coo.coo_matrix",
  "scipy.sparse._csr.csr_array",
  "scipy.sparse._csc.csc_array",
  "scipy.sparse.csr.csr_matrix",
  "scipy.sparse.csc.csc_matrix",
  "scipy.sparse.coo.coo_matrix",

  // scikit-learn composition.
  "sklearn.pipeline.FeatureUnion",
  "sklearn.compose._column_transformer._RemainderColsList",
  "sklearn.compose._column_transformer.make_column_selector",
  "sklearn.compose._target.TransformedTargetRegressor",

  // Preprocessing, imputation, feature selection/extraction.
  "sklearn.preprocessing._data.MinMaxScaler",
  "sklearn.preprocessing._data.MaxAbsScaler",
  "sklearn.preprocessing._data.RobustScaler",
  "sklearn.preprocessing._data.Normalizer",
  "sklearn.preprocessing._data.Binarizer",
  "sklearn.preprocessing._data.QuantileTransformer",
  "sklearn.preprocessing._data.PowerTransformer",
  "sklearn.preprocessing._encoders.OrdinalEncoder",
  "sklearn.preprocessing._label.LabelEncoder",
  "sklearn.preprocessing._label.LabelBinarizer",
  "sklearn.preprocessing._label.MultiLabelBinarizer",
  "sklearn.preprocessing._polynomial.PolynomialFeatures",
  "sklearn.preprocessing._polynomial.SplineTransformer",
  "sklearn.preprocessing._discretization.KBinsDiscretizer",
  "sklearn.preprocessing._target_encoder.TargetEncoder",
  "sklearn.impute._base.SimpleImputer",
  "sklearn.impute._base.MissingIndicator",
  "sklearn.impute._knn.KNNImputer",
  "sklearn.feature_selection._variance_threshold.VarianceThreshold",
  "sklearn.feature_selection._univariate_selection.SelectKBest",
  "sklearn.feature_selection._univariate_selection.SelectPercentile",
  "sklearn.feature_selection._univariate_selection.f_classif",
  "sklearn.feature_selection._univariate_selection.f_regression",
  "sklearn.feature_selection._univariate_selection.chi2",
  "sklearn.feature_selection._from_model.SelectFromModel",
  "sklearn.feature_selection._rfe.RFE",
  "sklearn.feature_extraction._dict_vectorizer.DictVectorizer",
  "sklearn.feature_extraction.text.CountVectorizer",
  "sklearn.feature_extraction.text.TfidfVectorizer",
  "sklearn.feature_extraction.text.TfidfTransformer",
  "sklearn.decomposition._pca.PCA",
  "sklearn.decomposition._truncated_svd.TruncatedSVD",
  "sklearn.decomposition._nmf.NMF",

  // Linear models.
  "sklearn.linear_model._logistic.LogisticRegressionCV",
  "sklearn.linear_model._base.LinearRegression",
  "sklearn.linear_model._ridge.Ridge",
  "sklearn.linear_model._ridge.RidgeCV",
  "sklearn.linear_model._ridge.RidgeClassifier",
  "sklearn.linear_model._coordinate_descent.Lasso",
  "sklearn.linear_model._coordinate_descent.ElasticNet",
  "sklearn.linear_model._coordinate_descent.LassoCV",
  "sklearn.linear_model._coordinate_descent.ElasticNetCV",
  "sklearn.linear_model._stochastic_gradient.SGDClassifier",
  "sklearn.linear_model._stochastic_gradient.SGDRegressor",
  "sklearn.linear_model._sgd_fast.Hinge",
  "sklearn.linear_model._sgd_fast.Log",
  "sklearn.linear_model._sgd_fast.ModifiedHuber",
  "sklearn.linear_model._sgd_fast.SquaredLoss",
  "sklearn.linear_model._perceptron.Perceptron",
  "sklearn.linear_model._huber.HuberRegressor",
  "sklearn.linear_model._bayes.BayesianRidge",
  "sklearn.linear_model._glm.glm.PoissonRegressor",
  "sklearn.linear_model._glm.glm.GammaRegressor",
  "sklearn.linear_model._glm.glm.TweedieRegressor",

  // Trees and ensembles.
  "sklearn.tree._classes.DecisionTreeClassifier",
  "sklearn.tree._classes.DecisionTreeRegressor",
  "sklearn.tree._classes.ExtraTreeClassifier",
  "sklearn.tree._classes.ExtraTreeRegressor",
  "sklearn.tree._tree.Tree",
  "sklearn.ensemble._forest.RandomForestClassifier",
  "sklearn.ensemble._forest.RandomForestRegressor",
  "sklearn.ensemble._forest.ExtraTreesClassifier",
  "sklearn.ensemble._forest.ExtraTreesRegressor",
  "sklearn.ensemble._gb.GradientBoostingClassifier",
  "sklearn.ensemble._gb.GradientBoostingRegressor",
  "sklearn.ensemble._gb_losses.BinomialDeviance",
  "sklearn.ensemble._gb_losses.MultinomialDeviance",
  "sklearn.ensemble._gb_losses.LeastSquaresError",
  "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
  "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
  "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
  "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
  "sklearn.ensemble._weight_boosting.AdaBoostClassifier",
  "sklearn.ensemble._weight_boosting.AdaBoostRegressor",
  "sklearn.ensemble._bagging.BaggingClassifier",
  "sklearn.ensemble._bagging.BaggingRegressor",
  "sklearn.ensemble._voting.VotingClassifier",
  "sklearn.ensemble._voting.VotingRegressor",
  "sklearn.ensemble._stacking.StackingClassifier",
  "sklearn.ensemble._stacking.StackingRegressor",
  "sklearn.ensemble._iforest.IsolationForest",
  "sklearn._loss.loss.HalfBinomialLoss",
  "sklearn._loss.loss.HalfMultinomialLoss",
  "sklearn._loss.loss.HalfSquaredError",
  "sklearn._loss.loss.AbsoluteError",
  "sklearn._loss.loss.HalfPoissonLoss",
  "sklearn._loss.link.LogitLink",
  "sklearn._loss.link.IdentityLink",
  "sklearn._loss.link.LogLink",
  "sklearn._loss.link.MultinomialLogit",
  "sklearn._loss.link.Interval",
  "sklearn._loss._loss.CyHalfBinomialLoss",
  "sklearn._loss._loss.CyHalfMultinomialLoss",
  "sklearn._loss._loss.CyHalfSquaredError",
  "sklearn._loss._loss.__pyx_unpickle_CyHalfBinomialLoss",
  "sklearn._loss._loss.__pyx_unpickle_CyHalfMultinomialLoss",
  "sklearn._loss._loss.__pyx_unpickle_CyHalfSquaredError",

  // Other estimators.
  "sklearn.svm._classes.SVC",
  "sklearn.svm._classes.SVR",
  "sklearn.svm._classes.LinearSVC",
  "sklearn.svm._classes.LinearSVR",
  "sklearn.svm._classes.NuSVC",
  "sklearn.svm._classes.OneClassSVM",
  "sklearn.naive_bayes.GaussianNB",
  "sklearn.naive_bayes.MultinomialNB",
  "sklearn.naive_bayes.BernoulliNB",
  "sklearn.naive_bayes.ComplementNB",
  "sklearn.naive_bayes.CategoricalNB",
  "sklearn.neighbors._classification.KNeighborsClassifier",
  "sklearn.neighbors._regression.KNeighborsRegressor",
  "sklearn.neighbors._unsupervised.NearestNeighbors",
  "sklearn.neighbors._kd_tree.KDTree",
  "sklearn.neighbors._ball_tree.BallTree",
  "sklearn.neighbors._kd_tree.newObj",
  "sklearn.neighbors._ball_tree.newObj",
  "sklearn.metrics._dist_metrics.EuclideanDistance",
  "sklearn.metrics._dist_metrics.EuclideanDistance64",
  "sklearn.metrics._dist_metrics.newObj",
  "sklearn.cluster._kmeans.KMeans",
  "sklearn.cluster._kmeans.MiniBatchKMeans",
  "sklearn.calibration.CalibratedClassifierCV",
  "sklearn.calibration._CalibratedClassifier",
  "sklearn.calibration._SigmoidCalibration",
  "sklearn.isotonic.IsotonicRegression",
  "sklearn.dummy.DummyClassifier",
  "sklearn.dummy.DummyRegressor",
  "sklearn.multiclass.OneVsRestClassifier",
  "sklearn.multioutput.MultiOutputClassifier",
  "sklearn.multioutput.MultiOutputRegressor",
  "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
  "sklearn.neural_network._multilayer_perceptron.MLPRegressor",
  "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
  "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
  "sklearn.discriminant_analysis.LinearDiscriminantAnalysis",
  "sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis",
  "sklearn.mixture._gaussian_mixture.GaussianMixture",
  "sklearn.utils._bunch.Bunch",
  "sklearn.utils.Bunch",
];

const ALLOWED_SET: ReadonlySet<string> = new Set(ALLOWED);

// Modules whose every attribute can run code, read/write files or reach the network.
const DANGEROUS_MODULES: readonly string[] = [
  "os",
  "posix",
  "nt",
  "posixpath",
  "ntpath",
  "subprocess",
  "_posixsubprocess",
  "commands",
  "popen2",
  "pty",
  "runpy",
  "importlib",
  "imp",
  "pkgutil",
  "marshal",
  "pickle",
  "_pickle",
  "cPickle",
  "dill",
  "cloudpickle",
  "shelve",
  "code",
  "codeop",
  "types",
  "sys",
  "shutil",
  "socket",
  "_socket",
  "ssl",
  "http",
  "urllib",
  "urllib2",
  "requests",
  "ftplib",
  "smtplib",
  "telnetlib",
  "ctypes",
  "_ctypes",
  "cffi",
  "webbrowser",
  "multiprocessing",
  "_thread",
  "signal",
  "timeit",
  "pdb",
  "bdb",
  "profile",
  "cProfile",
  "trace",
  "io",
  "_io",
  "fileinput",
  "asyncio",
  "platform",
  "ensurepip",
  "venv",
  "distutils",
  "setuptools",
  "pip",
  "zipimport",
];

// Single attributes that run code or reach arbitrary attributes (builtins is otherwise mostly harmless).
const DANGEROUS_PAIRS: ReadonlySet<string> = new Set([
  "builtins.eval",
  "builtins.exec",
  "builtins.compile",
  "builtins.getattr",
  "builtins.setattr",
  "builtins.delattr",
  "builtins.__import__",
  "builtins.open",
  "builtins.input",
  "builtins.breakpoint",
  "builtins.globals",
  "builtins.locals",
  "builtins.vars",
  "builtins.help",
  "builtins.execfile",
  "builtins.file",
  "builtins.reload",
  "operator.attrgetter",
  "operator.methodcaller",
  "_operator.attrgetter",
  "_operator.methodcaller",
  "joblib.load",
  "joblib.numpy_pickle.load",
  "numpy.load",
  "numpy.lib.npyio.load",
  "numpy.testing._private.utils.runstring",
  "numpy.testing.utils.runstring",
  "numpy.testing.runstring",
  "sklearn.utils._testing.assert_run_python_script",
  "sklearn.utils.testing.assert_run_python_script",
  "torch.load",
]);

/** Legacy (joblib < 0.10) wrappers whose BUILD loads companion .npy files we cannot see. */
const LEGACY_WRAPPERS: ReadonlySet<string> = new Set([
  "joblib.numpy_pickle.NDArrayWrapper",
  "joblib.numpy_pickle.ZNDArrayWrapper",
  "joblib.numpy_pickle_compat.NDArrayWrapper",
  "joblib.numpy_pickle_compat.ZNDArrayWrapper",
  "sklearn.externals.joblib.numpy_pickle.NDArrayWrapper",
  "sklearn.externals.joblib.numpy_pickle.ZNDArrayWrapper",
]);

function isDangerousModule(module: string): boolean {
  for (const dangerous of DANGEROUS_MODULES) {
    if (module === dangerous || module.startsWith(`${dangerous}.`)) return true;
  }
  return false;
}

/**
 * Classifies one imported global. Pure. Allowed means an exact (module, name) match;
 * "dangerous" only sharpens the message, both other statuses make a file unsafe.
 */
export function classifyGlobal(module: string, name: string): GlobalStatus {
  const key = `${module}.${name}`;
  const cached = statusCache.get(key);
  if (cached !== undefined) return cached;
  const status = classifyUncached(module, name, key);
  // Bounded so a file inventing millions of names cannot grow it without limit.
  if (statusCache.size < 4096) statusCache.set(key, status);
  return status;
}

const statusCache = new Map<string, GlobalStatus>();

function classifyUncached(module: string, name: string, key: string): GlobalStatus {
  if (ALLOWED_SET.has(key)) return "allowed";
  // Python 2 spelling of builtins is as dangerous as the real thing.
  const normalized = module === "__builtin__" ? `builtins.${name}` : key;
  if (DANGEROUS_PAIRS.has(normalized) || isDangerousModule(module)) return "dangerous";
  // Protocol >= 4 resolves dotted names by attribute walk; dunder hops reach interpreter internals.
  if (name.split(".").some((part) => part.startsWith("__") && part.endsWith("__"))) return "dangerous";
  return "unknown";
}

/** True when the pair is a pre-0.10 joblib wrapper that points at companion files. Pure. */
export function isLegacyWrapperGlobal(module: string, name: string): boolean {
  return LEGACY_WRAPPERS.has(`${module}.${name}`);
}

/** The allowlist, for display and tests. Pure. */
export function allowedGlobals(): readonly string[] {
  return ALLOWED;
}
