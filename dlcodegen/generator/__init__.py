"""The generator: plan -> Code RAG -> Template RAG -> comparative generation, one module per stage."""
