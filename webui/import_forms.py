"""The import page's form: where the plan goes, the document, and the preview's state.

One form serves both steps (read a document; correct and save its outline),
so what the user typed stays on the page whatever happens. The preview's
state is the outline as JSON in a hidden field (and, for a file of several
plans, its paragraphs), read back by the library as untrusted on every
request (``planflow.core.content.importer.preview``). Each item's text and
due month are fields named by the item's key, read by the view.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l  # type: ignore[import-untyped]
from flask_wtf.file import FileField  # type: ignore[import-untyped]
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField  # type: ignore[import-untyped]
from wtforms.validators import InputRequired, Length, NumberRange  # type: ignore[import-untyped]

from .forms import CHOOSE, MAX_IMPORT, MAX_TITLE, PlainText, PlanflowForm, _id_or_none, _strip

#: The button pressed: a step, or a correction of one item (``merge:<key>`` …).
OP = re.compile(r"^(read|refresh|save|part:[0-9]{1,4}|(merge|split|promote):[0-9a-z]{1,64})$")
YEAR_MESSAGE = _l("Give the year as a number, e.g. 2027.")


class ImportForm(PlanflowForm):
    workflow = SelectField(_l("Kind of plan"), invalid_choice_message=CHOOSE)
    unit = SelectField(_l("Unit"), coerce=_id_or_none, invalid_choice_message=CHOOSE)
    year = IntegerField(
        _l("Year"),
        invalid_value_message=YEAR_MESSAGE,
        validators=[
            InputRequired(message=YEAR_MESSAGE),
            NumberRange(min=2000, max=2100, message=_l("The year must be between 2000 and 2100.")),
        ],
    )
    document = FileField(_l("Word (.docx) or text (.txt) file"))
    text = TextAreaField(
        _l("or paste the plan's text"),
        validators=[Length(max=MAX_IMPORT, message=_l("At most %(max)d characters, please."))],
    )
    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[
            Length(max=MAX_TITLE, message=_l("At most %(max)d characters, please.")),
            PlainText(),
        ],
    )
    # The preview's state (library-checked on every request) and the button pressed.
    outline = HiddenField()
    lines = HiddenField()
    report = HiddenField()
    op = StringField()
