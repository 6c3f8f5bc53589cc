"""dlcodegen: planning-guided generation of deep learning projects (DLCodeGen) on the Hugging Face stack."""

__version__ = "0.1.0"
