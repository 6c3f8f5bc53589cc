"""Scoring: CodeBLEU with the paper's normalisation, the plan-field metrics, and the paper-table reports."""
