"""Plan layers -> Keras layer calls: the planned strings parsed (calls) or read (prose such as "Dense Layer (128
neurons) with ReLU activation"), with unknown names mapped to the project's settings."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

# keras.layers classes a plan may name (the ones DLPlanData uses, by frequency, and their usual companions).
KERAS_LAYERS = frozenset("""
Dense Conv2D Dropout MaxPooling2D BatchNormalization Flatten Activation Conv1D MaxPool2D Conv2DTranspose
GlobalAveragePooling2D LSTM GRU Bidirectional LeakyReLU UpSampling2D Embedding MaxPooling1D ReLU Reshape
SeparableConv2D AveragePooling2D Rescaling RandomFlip MaxPool1D GlobalAveragePooling1D GlobalMaxPooling1D
RandomRotation Conv3D AveragePooling1D GaussianDropout RandomZoom ConvLSTM2D MaxPooling3D GlobalAvgPool2D
Conv3DTranspose GlobalMaxPooling2D SeparableConv1D RandomContrast RepeatVector RandomTranslation ZeroPadding2D
ActivityRegularization UpSampling1D LayerNormalization GroupNormalization SpatialDropout1D SpatialDropout2D
GaussianNoise SimpleRNN PReLU ELU Softmax Cropping2D GlobalAveragePooling3D AlphaDropout Permute UnitNormalization
GlobalMaxPool2D GlobalMaxPool1D GlobalAvgPool1D GlobalMaxPooling3D DepthwiseConv2D Conv1DTranspose UpSampling3D
MultiHeadAttention Attention TimeDistributed Masking Normalization TextVectorization RandomCrop RandomBrightness
Resizing CenterCrop SpatialDropout3D AveragePooling3D ZeroPadding1D Cropping1D
""".split())
# keras.applications builders (a pretrained base is one layer of the plan).
APPLICATIONS = frozenset("""
ResNet50 VGG16 InceptionV3 EfficientNetB0 EfficientNetB1 EfficientNetB2 EfficientNetB3 EfficientNetB4 EfficientNetB5
EfficientNetB6 EfficientNetB7 MobileNetV2 MobileNet DenseNet121 DenseNet169 DenseNet201 VGG19 InceptionResNetV2
MobileNetV3Small MobileNetV3Large ResNet50V2 Xception ResNet101 ResNet152 ResNet152V2 ResNet101V2 NASNetMobile
EfficientNetV2B0 EfficientNetV2S ConvNeXtTiny
""".split())
INPUT_LAYERS = frozenset({"Input", "InputLayer"})
# Prose words -> the Keras layer they name, longest first when matching.
_PROSE = (
    ("batch normalization", "BatchNormalization"), ("batchnormalization", "BatchNormalization"),
    ("global average pooling", "GlobalAveragePooling2D"), ("globalaveragepooling", "GlobalAveragePooling2D"),
    ("max pooling", "MaxPooling2D"), ("maxpool", "MaxPooling2D"), ("fully connected", "Dense"),
    ("bidirectional", "Bidirectional"), ("embedding", "Embedding"), ("flatten", "Flatten"),
    ("dropout", "Dropout"), ("lstm", "LSTM"), ("gru", "GRU"), ("conv1d", "Conv1D"), ("conv2d", "Conv2D"),
    ("convolution", "Conv2D"), ("conv", "Conv2D"), ("upsampling", "UpSampling2D"), ("dense", "Dense"),
    ("output", "Dense"), ("input", "Input"),
)
_ACTIVATIONS = ("softmax", "sigmoid", "relu", "tanh", "linear", "elu", "selu", "gelu", "swish")
# Names that plans use for values the project holds as settings.
SETTING_NAMES = {
    "num_classes": "NUM_CLASSES", "n_classes": "NUM_CLASSES", "classes": "NUM_CLASSES", "num_labels": "NUM_CLASSES",
    "vocab_size": "VOCAB_SIZE", "max_words": "VOCAB_SIZE", "num_words": "VOCAB_SIZE", "max_features": "VOCAB_SIZE",
    "input_dim": "VOCAB_SIZE", "max_len": "MAX_LEN", "maxlen": "MAX_LEN", "max_length": "MAX_LEN",
    "sequence_length": "MAX_LEN", "max_sequence_length": "MAX_LEN", "embedding_dim": "EMBEDDING_DIM",
    "embed_dim": "EMBEDDING_DIM", "input_shape": "INPUT_SHAPE", "img_shape": "INPUT_SHAPE",
}
_DROPPED_KEYWORDS = {"input_shape", "input_dim", "input_length", "batch_input_shape", "name", "return_state"}


@dataclass(frozen=True)
class LayerCall:
    """One Keras layer as the project writes it: `layers.<name>(<arguments>)` or `keras.applications.<name>(...)`."""

    name: str
    arguments: str  # source text of the arguments
    source: str  # the plan's text it came from

    @property
    def code(self) -> str:
        module = "keras.applications" if self.name in APPLICATIONS else "layers"
        return f"{module}.{self.name}({self.arguments})"


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else None


class _Settings(ast.NodeTransformer):
    """Names the plan uses for settings -> the settings' constants; other unknown names -> None (dropped)."""

    def __init__(self):
        self.unknown = False

    def visit_Call(self, node: ast.Call) -> ast.AST:
        name = _call_name(node.func)
        if name in KERAS_LAYERS:  # Bidirectional(LSTM(32)), TimeDistributed(Dense(1))
            node.func = ast.Attribute(ast.Name("layers", ast.Load()), name, ast.Load())
            node.args = [self.visit(argument) for argument in node.args]
            for keyword in node.keywords:
                keyword.value = self.visit(keyword.value)
            return node
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in ("True", "False", "None"):
            return node
        if node.id.lower() in SETTING_NAMES:
            return ast.copy_location(ast.Name(SETTING_NAMES[node.id.lower()], ast.Load()), node)
        if node.id.isupper():
            return node
        self.unknown = True
        return node


def _from_call(call: ast.Call, source: str) -> LayerCall | None:
    name = _call_name(call.func)
    if name not in KERAS_LAYERS | APPLICATIONS | INPUT_LAYERS:
        return None
    parts = []
    for argument in call.args:
        settings = _Settings()
        rewritten = settings.visit(argument)
        if settings.unknown:
            return LayerCall(name, _default_arguments(name, source), source) if not parts else None
        parts.append(ast.unparse(rewritten))
    for keyword in call.keywords:
        if keyword.arg in _DROPPED_KEYWORDS or keyword.arg is None:
            continue
        settings = _Settings()
        rewritten = settings.visit(keyword.value)
        if keyword.arg == "activation" and isinstance(rewritten, ast.Constant) and isinstance(rewritten.value, str):
            rewritten = ast.Constant(_activation_name(rewritten.value))
        if not settings.unknown:
            parts.append(f"{keyword.arg}={ast.unparse(rewritten)}")
    if name == "Bidirectional" and not call.args:
        return None
    return LayerCall(name, ", ".join(parts) or _default_arguments(name, source), source)


def _activation_name(name: str) -> str:
    """Keras 3's identifier for an activation a plan spells as a class ('LeakyReLU' -> 'leaky_relu')."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower().replace("re_lu", "relu")


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", text)


def _default_arguments(name: str, text: str) -> str:
    """Arguments for a layer named in prose: the numbers and activation the text gives (never the digits of a
    layer's own name, such as the 2 of "Conv2D"), else common defaults."""
    lowered = re.sub(r"\b[a-z]\w*\d[a-z]\w*\b", " ", text.lower())
    numbers = _numbers(lowered)
    activation = next((word for word in _ACTIVATIONS if word in lowered), None)
    with_activation = f", activation='{activation}'" if activation else ""
    if name == "Dense":
        return f"{numbers[0] if numbers and '.' not in numbers[0] else 64}{with_activation}"
    if name == "DepthwiseConv2D":  # no filters: its first argument is the kernel size
        return f"(3, 3), padding='same'{with_activation or ', activation=' + repr('relu')}"
    if "Conv" in name and name != "ConvLSTM2D":
        size = "3" if name.endswith("1D") else ("(3, 3, 3)" if name.endswith("3D") else "(3, 3)")
        strides = ", strides=2" if "Transpose" in name else ""
        activation_part = with_activation or ", activation='relu'"
        return f"{numbers[0] if numbers and '.' not in numbers[0] else 32}, {size}{strides}, padding='same'{activation_part}"
    if name in ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout",
                "AlphaDropout"):
        return next((n for n in numbers if "." in n), "0.5" if name == "Dropout" else "0.2")
    if name == "GaussianNoise":
        return next((n for n in numbers if "." in n), "0.1")
    if name in ("LSTM", "GRU"):
        return numbers[0] if numbers else "64"
    if name == "Embedding":
        return "VOCAB_SIZE, EMBEDDING_DIM"
    if name == "Activation":
        return repr(activation or "relu")
    if name == "Bidirectional":
        return "layers.LSTM(64)"
    if name in ("MaxPooling2D", "MaxPool2D", "AveragePooling2D"):
        return "(2, 2)"
    if name in ("MaxPooling1D", "MaxPool1D", "AveragePooling1D"):
        return "2"
    return ""


def _from_prose(text: str) -> LayerCall | None:
    lowered = text.lower()
    head = re.match(r"\s*([A-Za-z][A-Za-z0-9]*)", text)
    if head and head.group(1) in KERAS_LAYERS | APPLICATIONS:
        name = head.group(1)
    else:
        name = next((layer for words, layer in _PROSE if words in lowered), None)
    if name is None or name in INPUT_LAYERS:
        return None if name is None else LayerCall(name, "", text)
    return LayerCall(name, _default_arguments(name, text), text)


def resolve_layer(text: str) -> LayerCall | None:
    """The Keras layer a plan's layer string names, or `None` when it names none this project can write."""
    text = text.strip()
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        node = None
    if isinstance(node, ast.Call):
        return _from_call(node, text)
    return _from_prose(text)


def input_shape_of(call: LayerCall) -> tuple[int, ...] | None:
    """The literal shape an `Input(shape=...)` layer gives, if any."""
    match = re.search(r"shape=\(([\d,\s]+)\)", call.arguments) or re.match(r"\(([\d,\s]+)\)", call.arguments)
    if not match:
        return None
    values = tuple(int(value) for value in re.findall(r"\d+", match.group(1)))
    return values or None
