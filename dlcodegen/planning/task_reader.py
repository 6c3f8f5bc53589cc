"""Reading the task contract from the user's own words: `read_task(requirement, attributes) -> TaskSpec`.

Rules fire only on what the words state unambiguously: a family named by its verb or object (forecast, translate,
segment, generate, detect with boxes, spoken/speech/waveform audio, part-of-speech or entity tags, ...), an image
size ("128x128", "32 x 32 pixels", "(224, 224, 3)"), channels ("RGB", "grayscale"), a class count ("43 classes",
"two groups", "binary", "cats or dogs"), a forecasting horizon ("the next 24 hours"), a sample rate, a clip length,
a target column. Negations keep the family the sentence is about: "classify generated images" is a
classification. Each fact keeps the words it was read from. Where no rule names the family, the trained task
classifier (`dlcodegen.planning.task_classifier`) decides, and the fact says so.

This module is the one home of these facts: the planners' Input/Output writer and the consistency repairs read
them from the `TaskSpec`, never from the text again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from dlcodegen.core.items import Attributes
from dlcodegen.core.task import FAMILIES, NOT_STATED, Fact, InputSpec, OutputSpec, TaskSpec
from dlcodegen.planning.reader import flat_attributes

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fifteen": 15, "twenty": 20, "thirty": 30,
                 "hundred": 100, "a hundred": 100, "a thousand": 1000}
_NUMBER = r"(\d[\d,]*(?:\.\d+)?k?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
CLASSIFIER_SOURCE = "the task classifier (no rule in the words named the task)"


def _number(word: str) -> float:
    word = word.lower().replace(",", "")
    if word in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[word])
    return float(word[:-1]) * 1000 if word.endswith("k") else float(word)


def _count(word: str) -> int | None:
    value = _number(word)
    return int(value) if value.is_integer() and value >= 1 else None


@dataclass(frozen=True)
class _Rule:
    family: str
    pattern: re.Pattern


def _rule(family: str, pattern: str) -> _Rule:
    return _Rule(family, re.compile(pattern, re.I))


_IMAGES = r"(images?|photos?|pictures?|photographs?|scans?|x-?rays?|frames?|selfies?|imagery)"
_TABULAR = (r"(\d[\d,]* rows|csv|tabular|spreadsheet|columns?|\d+ (\w+ )?(features|attributes|variables|"
            r"predictors)|table of)")
# In order: the first rule that matches names the family. Specific wordings before the general ones, so that
# "translate horses into zebras" is image-to-image and "classify generated images" a classification.
_FAMILY_RULES = (
    _rule("image_classification", r"\bimage classification\b(?! and)"),
    _rule("reinforcement_learning", r"\b(reinforcement learning|q-learning|deep q|dqn|policy gradient|ppo|sac|td3|a2c|"
                                    r"openai gym|\w+-gym|gymnasium|cartpole|rewards?|trial and error|"
                                    r"an? agent (to|that) (play|learn|balanc|control|driv)\w*|agent that)\b"),
    _rule("image_to_image", r"\b(denois\w*|de-nois\w*|super[- ]?resolution|upscal\w*|coloriz\w*|colouris\w*|"
                            r"inpaint\w*|deblur\w*|image[- ]to[- ]image|style transfer|pix2pix|cyclegan|"
                            r"restor\w* (old |damaged )?" + _IMAGES + r"|low[- ]light|(clean|remov)\w* (up )?"
                            r"(the )?(noisy|noise|stains|blur)\w*|(turn|convert|map|translat)\w* [^.]{0,40}\b(images?|"
                            r"slices|scans|photos?)\b[^.]{0,10} (into|to) [^.]{0,30}\b(images?|photos?|scans|ones|"
                            r"paintings?|sketches|maps?)\b|look like full|reconstruct\w* (the )?[\w-]+ (mr |mri |ct )?(images?|scans?|"
                            r"slices)\b(?![^.]*\b(anomal|defect|outlier))|(enhanc|correct|fix)\w* (the )?(colou?rs?|"
                            r"lighting|exposure|contrast|quality) of [^.]{0,30}\b(images?|photos?|shots?|pictures?|scans?))"),
    _rule("multimodal_classification", r"\b(visual question answering|vqa)\b"),
    _rule("translation", r"\b(translat\w*|machine translation)\b(?![^.]*\b" + _IMAGES + r"\b)|\b(english|french|"
                         r"german|spanish|chinese|japanese|hindi|portuguese|italian|russian|arabic) (to|into) "
                         r"(english|french|german|spanish|chinese|japanese|hindi|portuguese|italian|russian|arabic)\b|"
                         r"\bparallel (text|corpus|corpora|sentences|data)\b|\b(paraphras\w*|rewrit\w* (\w+ ){0,4}(sentences?|text)s?\b|code[- ]to[- ]code|grammar (error )?"
                         r"correction|errors corrected|convert \w+ (methods|code|functions|programs)\b[^.]{0,20}\b(in)?to)"),
    _rule("question_answering", r"\b(answer\w* (the |user |natural[- ]language )?questions?|question[- ]answering|"
                                r"answers? (a |the )?(series of |set of |few )?(follow-up )?questions?|qa (model|system)|squad|\w+ that answers|extractive qa|multiple[- ]choice questions?)\b"),
    _rule("token_classification", r"\b(parts?[- ]of[- ]spe\w+|pos[- ]tag\w*|named[- ]entit\w*|ner\b|"
                                  r"(tag|label|classify) (each|every) (word|token|character)|(each|every) (word|token) "
                                  r"(belongs|gets|is (labell?ed|tagged|assigned))|token classification|slot filling|"
                                  r"bio tags|entity (recognition|extraction)|mentions? out of|extract\w* (every|all|each) "
                                  r"[\w ]{0,20}mentions?|sequence label\w*|tagg\w* each (character|word|token)|"
                                  r"(after|for) each (word|token)|redact\w*|de-?identif\w*|bio-tag\w*|tag\w* (the )?[\w ,]{0,40}\bmentions|"
                                  r"highlight\w* (the )?(exact )?(words|spans|phrases|tokens)|split\w* (an? |the )?[\w ]{0,20}\b(strings?|"
                                  r"texts?|sentences?|addresses|names)\b[^.?]{0,60}\binto [\w ]+, [\w ]+)"),
    _rule("image_captioning", r"\b(caption\w*|describ\w* (the content of )?(an |the |each )?" + _IMAGES + r"|"
                              r"image[- ]to[- ]text|alt[- ]text|ocr\b|optical character recognition|scene text|"
                              r"text recognition|(in)?to latex|im2latex|what is in (front of|the (photo|picture|image))|"
                              r"transcri\w* (the )?handwrit\w*|handwrit\w* (text|word|line)s? recognition|(write|generat|draft)\w* "
                              r"[^.]{0,40}\b(reports?|findings|descriptions?) (for|of) (each|every|the|an?) [^.]{0,20}"
                              r"\b(images?|photos?|radiographs?|x-?rays?|scans?)|read\w* [^.]{0,30}\b(numbers|text|digits|"
                              r"plates|words)\b[^.]{0,20}\bfrom [^.]{0,30}\b(photos?|images?|crops|scans|pictures))"),
    _rule("speech_recognition", r"\b(speech[- ]to[- ]text|transcri\w*|asr\b|automatic speech recognition|ctc\b|"
                                r"dictations?|speech recognition(?![^.]*\b(commands?|keywords?|digits?)\b)|"
                                r"(audio|calls?|recordings?|speech|voice)\b[^.]{0,60}\b(into|to) (searchable |written )?text)"),
    _rule("anomaly_detection", r"\b(anomal\w*|outliers?|novelty detection)\b(?![^.]*\bclassif)|\bonly (have )?"
                               r"([\w-]+ ){0,2}of (good|normal|healthy|defect-free)\b|\bwhat (healthy|normal) "
                               r"(\w+ )?looks like\b|\bdefect-free (training )?(images|samples|parts|data)\b"),
    _rule("time_series_classification", r"\b(ecg\w*|ekg|eeg|emg|accelerometers?|gyroscopes?|imu|inertial|human activity|"
                                        r"activity recognition|ucr archive|uea archive|classif\w* (the |each |"
                                        r"multivariate |univariate )?time[- ]series|time[- ]series classification)\b|"
                                        r"\b(anomal\w*|faults?|fail\w*)\b[^.]*\b(sensors?|telemetry|readings|"
                                        r"signals|vibrations?)\b|\b(sensors?|telemetry|vibrations?)\b[^.]*\b(anomal|fail)\w*|"
                                        r"\bseries\b[^.]{0,80}\b(class(es)?|classif\w*)\b|\bclassif\w* [^.]{0,40}\bseries\b"),
    _rule("audio_classification", r"\b(spoken|speech|waveforms?|audio|sounds?|sound clips?|voice|recordings?|"
                                  r"keyword spotting|spectrograms?|\.?wav files?|music genres?|bird ?(calls?|songs?)|"
                                  r"speaker (identification|recognition|verification|diarization|id)|which speaker|microphones?|listen\w* to|"
                                  r"acoustic|\d+(\.\d+)? ?k?hz)\b"),
    _rule("time_series_forecasting", r"\b(forecast\w*|predict\w* (the )?(next|future|coming|upcoming)\b(?! (word|"
                                     r"character|token|letter|frame))|\d+[- ](step|day|hour|week|month|minute)s?[- ]ahead|"
                                     r"\d+ (minutes?|hours?|days?|weeks?|steps?) ahead|day[- ]ahead|(for|over) the "
                                     r"(next|coming) (\d+ )?(minutes?|hours?|days?|weeks?|months?|quarters?|years?)|"
                                     r"horizons?\b|time[- ]series (prediction|forecast\w*)|"
                                     r"(predict|estimat|project|anticipat)\w* (?!whether|if\b)[^.]{0,40}\b(tomorrow|"
                                     r"tonight|next (hour|day|week|month|quarter|year)'s)|(predict|estimat|project)\w* "
                                     r"(?!whether|if\b)[^.]{0,60}\b(from|using|given|based on) (the )?(last|previous|"
                                     r"past|preceding) " + _NUMBER + r" (minutes?|hours?|days?|weeks?|months?|years?|"
                                     r"steps?|readings)|(given|from|using) (the )?(last|previous|past) " + _NUMBER +
                                     r" (minutes?|hours?|days?|weeks?|months?)\b[^.?]{0,40}\b(what will|next))"),
    _rule("object_detection", r"\bobject detection\b|\bbounding[- ]box\w*|\b(yolo\w*|faster r-?cnn|mask r-?cnn|"
                              r"retinanet|ssd|detr|detectron\w*|sahi)\b|\bboxing (every|each|all)\b|\b(detect\w*|locali[sz]\w*|locat\w*|put|draw)\b"
                              r"[^.]*\bbox(es)?\b|\b(object )?locali[sz]ation\b"),
    _rule("image_segmentation", r"\b(segment\w*(?! (customers|users|clients|the market|markets|audiences))|"
                                r"pixel[- ]?(wise|level)|(each|every) pixel|masks?\b(?! r-?cnn)|u-?net|segformer|"
                                r"deeplab\w*|mask2former|scene parsing|segnet)"),
    _rule("video_classification", r"\b(videos?|video clips?|videomae|footage|kinetics|ucf-?101|hmdb\w*|i3d|"
                                  r"two[- ]stream|surveillance|\d+ (human )?actions|webcam)\b|\baction recognition\b|\b(gestures?|actions?)\b"
                                  r"[^.]{0,60}\bclips\b|\bclips\b[^.]{0,60}\b(gestures?|actions?)\b"),
    _rule("image_similarity", r"\b(siamese|triplet loss|face verification|metric learning|similar " + _IMAGES +
                              r"|visually similar|image (retrieval|similarity)|reverse image search|same person|"
                              r"re-?identification|which individual|closest (items|images|products|matches)|"
                              r"best[- ]matching (photos|images)|(photos?|images?) back\b|group\w* [^.]{0,40}\bsimilar|"
                              r"search (our |the |an? )?(photo|image)s?)\b"),
    _rule("image_generation", r"^(?!.*\b(classif|detect|distinguish|tell)\w* [^.]{0,30}\b(generated|synthetic|"
                              r"fake|ai)\b)(?=.*\b(generat\w*|synthesi[sz]\w*|creat\w* new|produc\w* new|want hundreds)\b[^.]*\b"
                              r"(" + _IMAGES + r"|digits?|faces?|artworks?|anime|sprites?|ones)\b|.*\b(gan|dcgan|"
                              r"stylegan\w*|ddpm|fid|dreambooth|stable diffusion|text[- ]to[- ]image|"
                              r"diffusion model|variational autoencoder|vae)\b).*"),
    _rule("text_generation", r"\b((generat|writ)\w* (\w+ ){0,3}(text|sentences|stories|poems|poetry|lyrics|"
                             r"headlines|jokes|recipes|repl(y|ies)|responses?|summar(y|ies)|functions?|code)|language model\w*|"
                             r"next (word|character|token)|model writes|draft\w*|subject lines?|text[- ]to[- ]sql|"
                             r"into sql|code generation|from (its|the) docstring|"
                             r"come up with (a |an )?(full |new |short )?(recipes?|stor(y|ies)|names?|poems?|titles?|slogans?)|"
                             r"summari[sz]\w*|text generation|(build|train) (a |an )?chatbot|char(acter)?[- ]level "
                             r"(rnn|lstm|model))\b"),
    _rule("recommendation", r"\b(recommend(er|ation)s?\b|recommend\w* \w+ to (users|customers|people|learners|"
                            r"viewers|shoppers)|collaborative filtering|user-item|suggest\w* (the )?(next )?(course|movie|"
                            r"product|item|song|book|video|article)s?|playlist|most likely to (buy|reorder|click|watch|"
                            r"book)|(a|the) users? will give|order the results|next basket)"),
    _rule("multimodal_classification", r"\b" + _IMAGES + r" (and|with|plus) (its |their )?(text|captions?|"
                                       r"descriptions?|titles?)\b|\b(text|tweet|caption)s?\s*(\+|and) (image|photo)s? "
                                       r"pairs?\b|\b(multimodal|multi-modal)\b|\b(photo|image|poster|picture)s? and (its |"
                                       r"their |the |a )?(short )?(name|title|plot|summary|text|description|caption)s?\b|"
                                       r"\b(title|text|caption|description|summary) and (the |its |their )?(image|photo|"
                                       r"poster|picture)s?\b|\b(photos?|images?|pictures?)\b,? (and|plus|with) [^.]{0,25}"
                                       r"\b(free-text |recipe |product )?(text|descriptions?|words)\b|\bboth the (picture|"
                                       r"image|photo)s? and the (text|words|description)"),
    _rule("image_regression", r"\b(predict\w*|estimat\w*|regress\w*|count\w*)\b[^.]{0,40}\b(age|price|count|"
                              r"number|weight|bmi|score|value|how many|angle|fractions?|depth|distance|speed|yield)\b"
                              r"[^.]{0,40}\b(from|of|in|given|using) [^.]{0,20}" + _IMAGES + r"\b|\b" + _IMAGES +
                              r"\b[^.]{0,60}\b(predict|estimat|regress)\w* [^.]{0,30}\b(fractions?|angles?|ages?|counts?|"
                              r"values|scores)\b"),
    _rule("text_classification", r"\b(sentiment|spam|toxic\w*|hate speech|fake news|intents?\b|classif\w* (the |"
                                 r"each )?(\w+ )?(reviews?|tweets?|emails?|news|articles?|documents?|sentences?|texts?|"
                                 r"comments?|messages?|headlines?|posts?|sequences?|queries)|text classification|"
                                 r"(emails?|tickets?|messages?|reviews?|tweets?|comments?|posts?|articles?|documents?)\b"
                                 r"[^.]{0,60}\b(queues?|categor\w*|labell?ed|tagged)|(tag|label|route|triage|"
                                 r"categori[sz]e|classify|flag)\w* (each |every |incoming |the |our |all )?(\w+ ){0,2}"
                                 r"(tickets?|emails?|messages?|reviews?|tweets?|comments?|posts?|articles?|complaints?|"
                                 r"queries|abstracts|papers|headlines|chats?|transcripts))\b"),
    _rule("tabular_regression", r"\bhow much will [^.?]{0,60}\b(cost|be worth|sell for|earn|pay)\b|\b(regress\w*|how much (will|does|is)|estimat\w* (the )?(price|cost|value|amount))"
                                r"\b(?=[^.]*\b" + _TABULAR + r")|\b" + _TABULAR + r"\b[^.]*\b(regress\w*)|"
                                r"\b(predict|estimat)\w* (the )?[\w ]{0,25}\b(yield|price|rent|cost|amount|duration|"
                                r"how long|levels?|salary|count)\b[^.]{0,40}\bfrom [^.]{0,40}\w+, \w+(,| and) \w+|"
                                r"target column \w+"),
    _rule("tabular_classification", r"^(?=.*\b(classif\w*|whether|or not|either|churn\w*|fraud\w*|intrusions?|"
                                    r"default|which \w+ (will|should)|will (fail|leave|cancel|churn|default|buy))\b)"
                                    r".*?\b" + _TABULAR + r"\b|\bwhich \w+ (should i|will) [^.]{0,60}\b(soil|readings|"
                                    r"measurements|features|customers|attributes)\b|\b(measurements|readings) [^.]{0,60}"
                                    r"\bwhich \w+ will\b"),
    _rule("image_classification", r"\b(classif\w*|categori[sz]\w*|recogni[sz]\w*|identify|sort|distinguish|tell)\b"
                                  r"[^.]*\b" + _IMAGES + r"\b|\bimage classification\b"),
)
_NEGATION_BEFORE = re.compile(r"\b(not|no|without|instead of|rather than|isn't|aren't|never)\s+(\w+\s+){0,2}$", re.I)
_NEGATION_AFTER = re.compile(r"^[^.]{0,30}\b(but (i|we) (only|just)|are not needed|is not needed)\b", re.I)


def _negated(text: str, match: re.Match) -> bool:
    """"Not transcription", "bounding boxes are included but I only want the label": the words name what is
    not asked for."""
    before = text[max(0, match.start() - 30):match.start()]
    return bool(_NEGATION_BEFORE.search(before) or _NEGATION_AFTER.search(text[match.end():]))


def read_family(text: str) -> Fact[str]:
    """The family the words name, with the words; NOT_STATED when no rule fires."""
    for rule in _FAMILY_RULES:
        for match in rule.pattern.finditer(text):
            if not _negated(text, match):
                return Fact(rule.family, _words(match))
    return NOT_STATED


def _words(match: re.Match, limit: int = 60) -> str:
    """The matched words, verbatim; a long match is cut to its first named part (or its first words)."""
    words = match.group(0).strip()
    if len(words) <= limit:
        return words
    part = next((group for group in match.groups() if group and len(group.strip()) > 2), None)
    return part.strip() if part and len(part) <= limit else words[:limit].rsplit(" ", 1)[0]


# -- input facts --------------------------------------------------------------------------------------------------

_SIZE = re.compile(r"\b(\d{2,4})\s*[x×X*]\s*(\d{2,4})(?:\s*[x×X*]\s*(\d{1,3}))?(?:\s*(?:px|pixels?))?\b")
_TUPLE_SIZE = re.compile(r"\((?:[A-Za-z_][\w\s*]*,\s*)?(\d{2,4}),\s*(\d{2,4})(?:,\s*(\d{1,3}))?\)")
_HIGH_WIDE = re.compile(r"\b(\d{2,4})\s*(?:px|pixels?)?\s+(high|tall|wide)\s*(?:,|and|by|x)?\s*(\d{2,4})\s*(?:px|pixels?)?"
                        r"\s+(wide|high|tall)\b", re.I)
_SQUARE = re.compile(r"\b(\d{2,4})\s*(?:px|pixels?)(?:\s+square)?\b", re.I)
_CHANNELS = ((re.compile(r"\b(gr[ae]y\s?-?scale|single[- ]channel|1[- ]channel|one[- ]channel|black[- ]and[- ]white|"
                         r"monochrome)\b", re.I), 1),
             (re.compile(r"\b(rgb|colou?r(?:ed)? (?:images?|photos?|pictures?)|3[- ]channels?|three[- ]channels?)\b",
                         re.I), 3))
_SAMPLE_RATE = re.compile(r"\b(\d+(?:\.\d+)?)\s*(khz|hz)\b", re.I)
_CLIP = re.compile(r"\b" + _NUMBER + r"[- ]?(?:seconds?|secs?|s)\b(?=[^.]{0,25}\b(clips?|recordings?|audio|long|"
                   r"segments?|samples?|utterances?|files?))", re.I)
_SEQUENCE = re.compile(r"\b(?:max(?:imum)?[ _-]?(?:sequence[ _-]?)?len(?:gth)?|sequences? of|padded to|truncated to|"
                       r"up to|windows? of|at most)\s*(?:=|:)?\s*" + _NUMBER + r"\s*(tokens|words|characters|"
                       r"time ?steps|steps|samples|frames)\b", re.I)
_PER_EXAMPLE = re.compile(r"\b" + _NUMBER + r"\s+(?:data )?(samples|time ?steps|points|readings|values|frames)\s+"
                          r"(?:each|per (?:beat|window|sample|series|row|segment|example|recording|sequence))\b", re.I)
_WINDOW = re.compile(r"\b(?:previous|past|last|preceding)\s+" + _NUMBER + r"\s+(minutes?|hours?|days?|weeks?|"
                     r"months?|years?|steps?|time ?steps?|readings|observations|values)\b", re.I)
_FREQUENCY = {"minute": "minutes", "hourly": "hours", "daily": "days", "weekly": "weeks", "monthly": "months"}
_PER_UNIT = {("hours", "days"): 24, ("hours", "weeks"): 168, ("days", "weeks"): 7, ("minutes", "hours"): 60,
             ("days", "months"): 30, ("months", "years"): 12, ("days", "years"): 365}
_FEATURES = re.compile(r"\b" + _NUMBER + r"\s+(?:numeric(?:al)? |input |continuous |categorical |sensor |"
                       r"independent |(?!of\b|per\b|and\b)[a-z-]+ )?(features|columns|variables|attributes|sensors|"
                       r"predictors|signals)\b", re.I)
_VOCABULARY = re.compile(r"\b(?:vocabulary (?:size )?(?:of )?" + _NUMBER + r"|" + _NUMBER +
                         r"[- ](?:word|token) vocabulary|top " + _NUMBER + r" (?:most (?:frequent|common) )?words)",
                         re.I)
_SIGNAL_CHANNELS = re.compile(r"\b(\d{1,4})\s+(?:[\w-]+\s+)?(channels|leads|axes|axis)\b", re.I)
_DEPTH = re.compile(r"\b" + _NUMBER + r"\s+(slices|frames per (?:clip|video))\b", re.I)


def _image_facts(text: str) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    size = _SIZE.search(text) or _TUPLE_SIZE.search(text)
    if size:
        words = size.group(0).strip()
        facts["height"], facts["width"] = Fact(int(size.group(1)), words), Fact(int(size.group(2)), words)
        third = int(size.group(3)) if size.group(3) else None
        if third in (1, 3, 4):
            facts["channels"] = Fact(third, words)
        elif third:
            facts["depth"] = Fact(third, words)
    elif (sides := _HIGH_WIDE.search(text)) and {sides.group(2).lower(), sides.group(4).lower()} - {"tall"} \
            in ({"high", "wide"}, {"wide"}):
        first, second = int(sides.group(1)), int(sides.group(3))
        height, width = (first, second) if sides.group(2).lower() in ("high", "tall") else (second, first)
        facts["height"], facts["width"] = Fact(height, sides.group(0)), Fact(width, sides.group(0))
    elif square := _SQUARE.search(text):
        side = int(square.group(1))
        facts["height"] = facts["width"] = Fact(side, square.group(0))
    if "channels" not in facts:
        for pattern, channels in _CHANNELS:
            if found := pattern.search(text):
                facts["channels"] = Fact(channels, found.group(0))
                break
    if "depth" not in facts and (depth := _DEPTH.search(text)) and (value := _count(depth.group(1))):
        facts["depth"] = Fact(value, depth.group(0))
    return facts


def _window_length(text: str) -> Fact[int] | None:
    """"the previous 7 days of hourly readings" -> 168 steps; "the last 30 days" -> 30."""
    window = _WINDOW.search(text)
    if not window or not (count := _count(window.group(1))):
        return None
    unit = window.group(2).lower().rstrip("s") + "s"
    frequency = next((plural for word, plural in _FREQUENCY.items() if re.search(rf"\b{word}", text, re.I)), None)
    steps = count * _PER_UNIT.get((frequency, unit), 1) if frequency else count
    tail = text[window.end():window.end() + 30]
    words = window.group(0) + (m.group(0) if frequency and (m := re.match(r"[^.]*?\b\w*(hourly|daily|minute|weekly|"
                                                                          r"monthly)\b\s*\w*", tail)) else "")
    return Fact(steps, words.strip())


def _sequence_facts(text: str) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    if (sequence := _SEQUENCE.search(text)) and (value := _count(sequence.group(1))):
        facts["sequence_length"] = Fact(value, sequence.group(0))
    elif (each := _PER_EXAMPLE.search(text)) and (value := _count(each.group(1))):
        facts["sequence_length"] = Fact(value, each.group(0))
    elif window := _window_length(text):
        facts["sequence_length"] = window
    if (features := _FEATURES.search(text)) and (value := _count(features.group(1))):
        facts["features"] = Fact(value, features.group(0))
    if vocabulary := _VOCABULARY.search(text):
        number = next(group for group in vocabulary.groups() if group)
        if value := _count(number):
            facts["vocabulary"] = Fact(value, vocabulary.group(0))
    if rate := _SAMPLE_RATE.search(text):
        hertz = float(rate.group(1)) * (1000 if rate.group(2).lower() == "khz" else 1)
        facts["sample_rate"] = Fact(int(hertz), rate.group(0))
    if clip := _CLIP.search(text):
        facts["clip_seconds"] = Fact(_number(clip.group(1)), clip.group(0))
    return facts


# -- output facts -------------------------------------------------------------------------------------------------

_CLASS_NOUNS = (r"(classes|class|categor(?:y|ies)|class labels|labels|groups|kinds|types|species|breeds|emotions?|"
                r"genres|diseases|conditions|words|commands|folders|subfolders|directories|digits|letters|characters|"
                r"activities|actions?|events?|intents|topics|styles|grades|levels|stages|speakers|languages|tags|"
                r"entity types|options|codes|choices|answer choices|outcomes|families|surfaces|dishes|glosses|"
                r"instruments|classes of \w+)")
_WAYS = re.compile(r"\b(\d+)-way\b(?! (?:and|,))", re.I)
_CLASSES = re.compile(r"\b" + _NUMBER + r"\s+(?:(?!(?:with|from|of|and|in|into|per|for|across|pixels?|px|two|three|four|five|six|seven|eight|nine|ten)\b|\d)[\w-]+\s+){0,3}?" + _CLASS_NOUNS + r"\b|\b(?:one of|out of|"
                      r"among) " + _NUMBER + r"\b", re.I)
_GRADES = re.compile(r"\b(?:grades?|levels?|scores?|ratings?|stages?|severity)\s*\(?(?:from )?(\d)\s*(?:-|to)\s*(\d{1,2})\b",
                     re.I)
# "activities (walking, sitting, standing)", "machine_status column (NORMAL, BROKEN, RECOVERING)"
_LISTED = re.compile(r"\b(?:activities|classes|categories|labels|emotions?|types|column|species|kinds|classes are|"
                     r"labels are|labelled as|labeled as|queues?|predict \w+|into|in \d+ \w+)\s*[(:\-–]\s*"
                     r"([^():\-–]{3,200}?)\s*[).\-–]", re.I)
_ONE_CLASS = re.compile(r"\b(one|single|1) (class|category)\b", re.I)
_PAIR = re.compile(r"\b(?:classify|distinguish|tells?|separate|sort)\s+(?:images of |photos of |pictures of )?([\w-]+)"
                   r"\s+(?:and|from|vs\.?|versus)\s+([\w-]+)\b|\bis (?:this|it|the \w+|there)\s+(?:an? )?"
                   r"([\w-]+(?: [\w-]+)?) or ([\w-]+)\b", re.I)
_DIGITS = re.compile(r"\b(digits?|numbers?) (?:\()?0\s*(?:-|to|through)\s*9\b", re.I)
_LETTERS = re.compile(r"\b(letters?|alphabet) (?:\()?a\s*(?:-|to|through)\s*z\b", re.I)
_BINARY = re.compile(r"\b(binary|whether|two classes|yes[/ ]or[/ ]no|labell?ed [\w-]+/[\w-]+|either [\w-]+ or [\w-]+|[\w-]+ (?:vs\.?|versus) [\w-]+|"
                     r"whether or not|or not\b)", re.I)
# "as cats or dogs", "into positive, negative or neutral": the named classes
_NAMED = re.compile(r"\b(?:as|into|between|whether (?:it is|it's|they are|a|an|the)?)\s+((?:(?:an? |the )?[\w-]+"
                    r"(?: (?!(?:with|using|from|in|by|for|via|on|of|to|into|and|or|based|images?|photos?)\b)[\w-]+)?, )*(?:an? |the )?[\w-]+(?: (?!(?:with|using|from|in|by|for|via|on|of|to|into|and|or|based|images?|photos?)\b)[\w-]+)?,? (?:or|and|vs\.?|versus) (?:an? |the )?"
                    r"[\w-]+(?: (?!(?:with|using|from|in|by|for|via|on|of|to|into|and|or|based|images?|photos?)\b)[\w-]+)?)\b", re.I)
_MULTILABEL = re.compile(r"\b(multi[- ]?label|multiple labels|several labels|more than one (label|class|tag)|"
                         r"one or more (labels|classes|tags|categories)|all (the )?(labels|tags) that apply|"
                         r"can have (several|multiple|many|any of)|any of (the )?\d+ (labels|tags|classes)|"
                         r"which of (the )?\d+ [\w ]{0,30}(appear|are present)|several \w+ (can|may) (appear|sing|be)|"
                         r"more than one (can|may)|which [\w ]{0,30} are (calling|present|visible|singing)|"
                         r"several at once|at the same time|(several|some|any|one or more|zero or more) of (the |"
                         r"these |those )?(\d+|" + "|".join(_NUMBER_WORDS) + r") \w+|any number of (the )?((?:\d+|" + "|".join(_NUMBER_WORDS) + r") )?[\w-]*"
                         r" ?(labels|tags|classes|categories|topics|superclasses|genres)|multiple (tags|topics|categories|genres)( each| per)?)\b",
                         re.I)
# Wordings of a two-way decision that state no class count ("is this mushroom edible?", "detect fraud")
_BINARY_KIND = re.compile(r"\b(whether|is (this|it|there|the) [^.?]{0,40}\?|(is|are) [\w ]{1,30} or (not|\w+)\b|"
                          r"fraud\w*|churn\w*|spam|surviv\w*|yes[/ ]no|[\w-]+/[\w-]+ labell?ed|labell?ed "
                          r"[\w-]+/[\w-]+|sentiment|flag\b|(will|would) (also )?(fail|buy|churn|cancel|leave|default|"
                          r"click|survive)|anomal\w*|sarcas\w*)\b", re.I)
_RATINGS = re.compile(r"\b(predict\w* (the )?(stars?|ratings?)|rating prediction|rmse|ratings? (\(?\d+ ?(-|to) ?\d+))",
                      re.I)
_HORIZON = re.compile(r"\b(?:next|following|coming|upcoming)\s+" + _NUMBER + r"\s+(minutes?|hours?|days?|weeks?|"
                      r"months?|quarters?|years?|steps?|time ?steps?|values|points)\b|\b(\d+)[- ](?:step|day|hour|"
                      r"week|month)s?[- ]ahead\b|\bhorizon (?:of )?(\d+)\b", re.I)
_SPAN = re.compile(r"\bforecast\w*\s+(?:the\s+)?(?:next\s+)?" + _NUMBER + r"\s+(hours?|days?|weeks?|months?|years?)\s+"
                   r"of\s+(hourly|daily|weekly|monthly)\b", re.I)
# "predict the longitude and latitude": the regression targets named one by one
_TARGETS = re.compile(r"\b(?:predict|estimat|forecast|regress)\w*\s+(?:the\s+)?([a-z-]+(?:,\s+(?:the\s+)?[a-z-]+)*),?\s+"
                      r"and\s+(?:the\s+)?([a-z-]+)\b(?!\s+(?:data|features|columns|images|photos))", re.I)
_TARGET_COLUMN = re.compile(r"(?:target(?: column| variable)?|label column|predict(?:ing)? the)\s*(?:is|=|:)?\s*"
                            r"[`'\"]([\w .-]{1,40})[`'\"]|[`'\"]([\w.-]{1,40})[`'\"] (?:column|field)(?: is the "
                            r"(?:target|label))?", re.I)
_NOT_TARGETS = {"whether", "which", "if", "how", "what", "when", "where", "classify", "detect", "future", "next", "it",
                "them", "then", "evaluate", "compare", "explain", "visualize", "visualise", "report"}
_NOT_CLASSES = {"train", "test", "training", "validation", "images", "text", "data", "image", "photos"}


def _named_classes(text: str) -> Fact[tuple] | None:
    match = _NAMED.search(text)
    if not match:
        return None
    names = [re.sub(r"^(an?|the) ", "", part.strip(), flags=re.I)
             for part in re.split(r",\s*|\s+(?:or|and|vs\.?|versus)\s+", match.group(1)) if part.strip()]
    if len(names) < 2 or any(name.lower() in _NOT_CLASSES or len(name.split()) > 2 for name in names):
        return None
    return Fact(tuple(names), match.group(0).strip())


# "my 3 cats (Mia, Leo, Nala)": a count, a noun and a list of exactly that many names
_COUNTED_LIST = re.compile(r"\b" + _NUMBER + r"\s+(?:[\w-]+\s+){0,2}?(?!(?:features|signals|columns|sensors|channels|"
                           r"variables|inputs|fields|attributes|predictors|measurements|readings|files|steps)\b)"
                           r"[\w-]+\s*[(:]\s*([^():]{3,200}?)\s*[).]", re.I)


def _split_names(listed: str) -> list[str]:
    return [part.strip(" '\"") for part in re.split(r",\s*|\s+(?:or|and)\s+", listed) if part.strip(" '\"")]


def _counted_list(text: str) -> Fact[tuple] | None:
    for match in _COUNTED_LIST.finditer(text):
        names = _split_names(match.group(2))
        if len(names) >= 2 and len(names) == _count(match.group(1)) and all(len(name.split()) <= 3 for name in names):
            return Fact(tuple(names), match.group(0).strip())
    return None


def _listed_classes(text: str) -> Fact[tuple] | None:
    if counted := _counted_list(text):
        return counted
    if listed := _LISTED.search(text):
        names = _split_names(listed.group(1))
        if len(names) >= 2 and all(0 < len(name.split()) <= 3 for name in names):
            return Fact(tuple(names), listed.group(0).strip())
    if pair := _PAIR.search(text):
        first, second = (pair.group(1), pair.group(2)) if pair.group(1) else (pair.group(3), pair.group(4))
        if not {first.lower(), second.lower()} & _NOT_CLASSES and first.lower() != second.lower():
            return Fact((first, second), pair.group(0))
    return None


def _class_count(text: str) -> Fact[int] | None:
    for match in _CLASSES.finditer(text):
        number = match.group(1) or match.group(3)
        if (value := _count(number)) and value >= 2:
            return Fact(value, match.group(0))
    if ways := _WAYS.search(text):
        return Fact(int(ways.group(1)), ways.group(0))
    if grades := _GRADES.search(text):
        low, high = int(grades.group(1)), int(grades.group(2))
        if high > low:
            return Fact(high - low + 1, grades.group(0))
    return None


def _output_facts(text: str) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    named = _named_classes(text) or _listed_classes(text)
    if counted := _counted_list(text):
        named = counted
        facts["classes"] = Fact(len(counted.value or ()), counted.source)
    elif classes := _class_count(text):
        facts["classes"] = classes
    elif one := _ONE_CLASS.search(text):
        facts["classes"] = Fact(1, one.group(0))
    elif digits := _DIGITS.search(text):
        facts["classes"] = Fact(10, digits.group(0))
    elif letters := _LETTERS.search(text):
        facts["classes"] = Fact(26, letters.group(0))
    elif named:
        facts["classes"] = Fact(len(named.value or ()), named.source)
    elif binary := _BINARY.search(text):
        facts["classes"] = Fact(2, binary.group(0))
    if named and facts.get("classes", NOT_STATED).value == len(named.value or ()):
        facts["class_names"] = named
    if horizon := _HORIZON.search(text):
        number = horizon.group(1) or horizon.group(3) or horizon.group(4)
        if value := _count(number):
            facts["horizon"] = Fact(value, horizon.group(0))
    elif span := _SPAN.search(text):
        count, unit = _count(span.group(1)), span.group(2).lower().rstrip("s") + "s"
        frequency = _FREQUENCY[span.group(3).lower()]
        if count:
            facts["horizon"] = Fact(count * _PER_UNIT.get((frequency, unit), 1), span.group(0))
    if targets := _TARGETS.search(text):
        names = [name for name in re.split(r",\s+(?:the\s+)?", targets.group(1)) if name] + [targets.group(2)]
        if not {name.lower() for name in names} & _NOT_TARGETS:
            facts["targets"] = Fact(len(names), targets.group(0))
    if column := _TARGET_COLUMN.search(text):
        facts["target_column"] = Fact((column.group(1) or column.group(2)).strip(), column.group(0))
    return facts


def _classes_from_attributes(attributes: Attributes) -> Fact[tuple] | None:
    if isinstance(attributes, dict):
        for key, value in attributes.items():
            if not re.search(r"class|label|categor|famil|genre|type|emotion|tag", str(key), re.I):
                continue
            if isinstance(value, list) and 2 <= len(value) <= 1000 and all(isinstance(v, str) for v in value):
                return Fact(tuple(value), f"{key}: {', '.join(value)}")
    return None


def _target_from_attributes(attributes: Attributes) -> Fact[str] | None:
    if isinstance(attributes, dict):
        for key in ("target", "target_column", "label", "label_column"):
            if isinstance(attributes.get(key), str):
                return Fact(attributes[key], f"{key}: {attributes[key]}")
    return None


# -- the reader ---------------------------------------------------------------------------------------------------


class TaskClassifierLike(Protocol):
    def predict_family(self, requirement: str, attributes: Attributes = "") -> str: ...


def _output_kind(family, facts: dict[str, Fact], text: str) -> Fact[str]:
    if family is None:
        if "classes" in facts:
            return Fact("binary" if facts["classes"].value == 2 else "multiclass", facts["classes"].source)
        return NOT_STATED
    if family.name == "question_answering" and "classes" in facts:
        return Fact("binary" if facts["classes"].value == 2 else "multiclass", facts["classes"].source)
    if family.name == "recommendation" and (ratings := _RATINGS.search(text)):
        return Fact("regression", ratings.group(0))
    if family.output == "multiclass":
        if multilabel := _MULTILABEL.search(text):
            return Fact("multilabel", multilabel.group(0))
        if "classes" in facts:
            return Fact("binary" if facts["classes"].value == 2 else "multiclass", facts["classes"].source)
        if binary := _BINARY_KIND.search(text):
            return Fact("binary", binary.group(0))
    return Fact(family.output, f"the {family.title} family")


def _input_kind(family, image: dict[str, Fact], text: str) -> Fact[str]:
    if family is None:
        return Fact("image", image["height"].source) if "height" in image else NOT_STATED
    if family.input == "image" and "depth" in image:
        return Fact("volume", image["depth"].source)
    return Fact(family.input, f"the {family.title} family")


def read_task_rules(requirement: str, attributes: Attributes = "") -> TaskSpec:
    """What the requirement and its attributes state unambiguously, each fact with the words it was read from."""
    return read_task_as(requirement, attributes, _family_from_rules(requirement, attributes))


def read_task(requirement: str, attributes: Attributes = "", classifier: TaskClassifierLike | None = None) -> TaskSpec:
    """The task the user asked for: the rules' family, else the task classifier's (the shipped one by default)."""
    task = _family_from_rules(requirement, attributes)
    if not task.stated:
        if classifier is None:
            from dlcodegen.planning.task_classifier import default_task_classifier

            classifier = default_task_classifier()
        task = Fact(classifier.predict_family(requirement, attributes), CLASSIFIER_SOURCE)
    return read_task_as(requirement, attributes, task)


def _family_from_rules(requirement: str, attributes: Attributes) -> Fact[str]:
    task = read_family(requirement)
    return task if task.stated else read_family(flat_attributes(attributes))


def read_task_as(requirement: str, attributes: Attributes, task: Fact[str]) -> TaskSpec:
    """The facts of the words under a given family (the rules', the classifier's or an LLM's answer)."""
    text = f"{requirement} {flat_attributes(attributes)}"
    family = FAMILIES.get(task.value) if task.value else None
    image = _image_facts(text)
    output = _output_facts(text)
    if "target_column" not in output and (column := _target_from_attributes(attributes)):
        output["target_column"] = column
    if "classes" not in output and (listed := _classes_from_attributes(attributes)):
        output["classes"], output["class_names"] = Fact(len(listed.value or ()), listed.source), listed
    inputs = {**image, **_sequence_facts(text)}
    if family is not None and family.input in ("time_series", "audio") and "features" not in inputs:
        if signals := _SIGNAL_CHANNELS.search(text):
            inputs["features"] = Fact(_count(signals.group(1)), signals.group(0))
        image.pop("channels", None), inputs.pop("channels", None)
    if family is not None and family.output not in ("multiclass", "mask", "boxes", "tags") and \
            family.name != "question_answering":
        output.pop("classes", None), output.pop("class_names", None)
    if family is not None and family.name != "time_series_forecasting":
        output.pop("horizon", None)
    if family is None or family.output != "regression":
        output.pop("targets", None)
    return TaskSpec(task=task, input=InputSpec(kind=_input_kind(family, image, text), **inputs),
                    output=OutputSpec(kind=_output_kind(family, output, text), **output))

