"""`dlcodegen verify`: run a generated deep-learning project in a sandboxed child process and report how deep it got.

Levels, in order, each needing the one before:

``parse``
    the file compiles (markdown fences and notebook ``!``/``%`` lines are removed first when it does not as is).
``imports``
    its top-level ``import`` statements run (a missing module fails here, named in the error).
``model_built``
    a Keras model is built: ``Model.compile`` returned (or ``fit`` was called on a built model), or, for a project
    in this package's shape, ``build_model()`` returned a Keras model.
``train_step``
    one training step (``train_on_batch``) ran on a synthetic batch of 2 rows shaped like the model.

The result names the deepest level passed, the level that failed and its error as one line
(``ExceptionType: message (line N)``, N in the file as it ran).

Two ways of running the project
-------------------------------
*This package's shape* (a top-level ``build_model()`` that takes no argument and an ``if __name__ == "__main__":``
guard, as the offline generator writes them): the module is executed under the name ``project`` (so ``main()``
does not run and ``load_data()`` is never called), ``build_model()`` is called, and one ``train_on_batch`` runs on
a synthetic batch.

*Any other code* (an LLM's answer, the paper's generations: whole notebooks that read Kaggle paths, ``!pip``,
plot...) is executed top to bottom as ``__main__``, with stand-ins that only serve calls made from the project's
own file (libraries keep the real functions):

- reads of missing paths: ``open`` for reading (empty binary; ``{}`` for .json; a synthetic CSV for .csv; a few
  text lines otherwise), ``os.listdir``/``os.walk``/``glob`` (2 class folders + 4 image files, which then exist for
  ``os.path.exists/isdir/isfile``), ``pandas.read_csv/read_table/read_excel/read_json/read_parquet/...`` (a 64-row
  frame whose columns are guessed from the string subscripts and column keywords in the code: text-, file-,
  date-, label- and category-like names get matching values, the rest are floats), ``numpy.load`` (an array or an
  .npz mapping guessed from the name), ``PIL.Image.open``, ``cv2.imread``, ``keras.utils.load_img`` (random images),
  ``image_dataset_from_directory``/``text_dataset_from_directory``/``ImageDataGenerator.flow_from_directory``/
  ``flow_from_dataframe`` (the real function over a real synthetic folder of 2 classes x 4 files),
  ``keras.datasets.*.load_data`` (random arrays of the real shapes, no download), ``keras.utils.get_file`` when the
  network is blocked (a phantom path; ``Model.load_weights`` of it is skipped, so ``weights="imagenet"`` gives
  random weights);
- plotting: ``MPLBACKEND=Agg``; ``plt.show``/``plt.pause`` are no-ops; ``display``/``get_ipython`` exist;
- training: the first ``Model.fit`` (or ``train_on_batch``) called by the project runs ONE ``train_on_batch`` on a
  synthetic batch shaped like the model's inputs and outputs and then stops the project (a private
  ``BaseException`` the project's ``except Exception`` cannot swallow); a custom loop stops after its first
  ``optimizer.apply_gradients``. When the project ends without training but compiled a model, the step runs on
  the last compiled model.

Synthetic batch: inputs shaped like ``model.inputs`` (batch 2, free dimensions 32): ints below the smallest
``Embedding.input_dim`` for int inputs or when the model has an Embedding (2-D inputs), strings for string inputs,
floats in [0, 1) otherwise; targets shaped like the model's outputs on that batch and matched to the compiled
loss: sparse categorical -> int labels in range, categorical/KLD -> one-hot, binary/dice/focal/IoU/hinge -> 0/1,
anything else -> floats. A model whose input shape is unknown (subclassed, never called) is stepped on the first
2 rows of the data handed to ``fit``.

Sandbox
-------
The parent never imports TensorFlow. The child is ``python -m dlcodegen.verify.child JOB_DIR`` in a fresh
temporary working directory, in its own session (the whole process group is killed at the end), with
``RLIMIT_CPU`` = timeout (CPU seconds, all threads), ``RLIMIT_AS`` = ``memory_mb``, ``RLIMIT_FSIZE`` = 256 MB and no
core files (set by ``preexec_fn`` and again by the child itself, which is what counts when the caller runs threads
and ``preexec_fn`` is unsafe), stdin closed, stdout discarded, stderr to a file read only to diagnose crashes,
``TF_CPP_MIN_LOG_LEVEL=3``, ``CUDA_VISIBLE_DEVICES=""``, 2 threads (TF/OMP/BLAS), ``MALLOC_ARENA_MAX=2``,
``KERAS_BACKEND=tensorflow``, a private ``KERAS_HOME`` and the Hugging Face libraries offline. The answer comes
back as JSON in a file (rewritten after each level passed), never through stdout. A wall-clock limit of
``2 x timeout + 5 s`` covers sleeping or blocked code; at either limit the level being attempted fails with
``timed out after S s``. A ``MemoryError``, TensorFlow's allocation failure or a death by signal (an allocation
failure under ``RLIMIT_AS`` often ends in SIGSEGV/SIGABRT inside native code) reads
``stopped: exceeded the memory limit of N MB``.

Network (unless ``network=True``): the socket layer refuses ``connect``/``connect_ex``/``sendto`` on IP sockets,
``create_connection`` and name resolution (``ConnectionRefusedError: network access is blocked in verify``), and
when the machine allows it (tested once per process: ``unshare -rn``, else ``unshare -n``) the child also runs in
an empty network namespace. The notes say which.

Memory: ``RLIMIT_AS`` limits *virtual* memory (what the child reserves, not what it touches), measured here with
TensorFlow 2.21 / Keras 3.15 and ``MALLOC_ARENA_MAX=2`` (each result's notes give the child's peak): importing
TensorFlow reserves about 1.2 GB; a small CNN's train step peaks at about 1.5 GB virtual (0.7 GB resident), a
frozen VGG16 at 224x224 at 1.8 GB, a ResNet50 fine-tuned at 224x224 at 3.1 GB (2.2 GB resident). The paper's
generations often put a Dense layer on a large Flatten (100M+ weights, x3 with Adam): those peak at 5-7 GB. The
default, 8192 MB, lets them train; 4096 MB is enough for small and mid-sized models (``--memory`` sets it).

Limits (honestly: a heuristic harness)
--------------------------------------
The filesystem is not isolated (a temporary working directory and ``RLIMIT_FSIZE`` only): verify code you would
run anyway. Stand-ins only replace the calls listed above, made directly from the project's file; data read in
other ways (``tf.io.read_file``, ``h5py``, ``nibabel``, ``tensorflow_datasets``, Hugging Face hubs) fails as it
would without the data, and a stand-in frame's columns are guesses, so data-wrangling code often fails on them
before a model is built: such a failure says where the pipeline broke against placeholder data, not that the
project is wrong. ``train_step`` proves the model trains on data of its own shape, not that the project's data
pipeline feeds it. Only Keras models count (PyTorch code stops at ``model_built``). Libraries imported only inside
functions get the stand-ins on import from the project's file. ``exec`` of the whole module happens once: code
after the first ``fit`` never runs.

Modules
-------
``runner`` (the parent: starts the child with its limits, waits, kills), ``result`` (``VerifyConfig``,
``VerifyResult``, reading the child's answer), ``source`` (the file's checks), ``protocol`` (what parent and child
share: the levels, the job and report files, the memory hints) and the ``child`` package (the stand-ins, by concern).
"""

from dlcodegen.verify.protocol import LEVELS
from dlcodegen.verify.result import WALL_FACTOR, WALL_MARGIN, VerifyConfig, VerifyResult
from dlcodegen.verify.runner import (FSIZE_MB, TF_MISSING, network_namespace_prefix, tensorflow_available,
                                     verify_code, verify_file)
from dlcodegen.verify.source import MAX_FILE_BYTES, VerifyInputError, read_source

__all__ = ["FSIZE_MB", "LEVELS", "MAX_FILE_BYTES", "TF_MISSING", "WALL_FACTOR", "WALL_MARGIN", "VerifyConfig",
           "VerifyInputError", "VerifyResult", "network_namespace_prefix", "read_source", "tensorflow_available",
           "verify_code", "verify_file"]
