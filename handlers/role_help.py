"""What each role can do, as /help and the greetings list it."""

from __future__ import annotations

from chat.i18n import _


def role_help(role: str | None) -> str:
    lines = {
        "owner": _("/enrol – enrol or update your enterprise\n"
                   "/code – the join code and poster for your workers\n"
                   "/invite – a one-time link for an enterprise admin\n"
                   "/survey – the monthly KPI report\n"
                   "/kpi – your enterprise's trend and the workers' survey totals\n"
                   "/baseline – the KPIs before training\n"
                   "/modules – where your enterprise stands in SCORE, module by module"),
        "admin": _("You will report monthly KPIs here. The owner of your enterprise added you.\n"
                   "/survey – the monthly KPI report\n"
                   "/kpi – your enterprise's trend and the workers' survey totals\n"
                   "/modules – where your enterprise stands in SCORE, module by module"),
        "worker": _("/join – join your enterprise with its code\n"
                    "/survey – the monthly workers' survey\n"
                    "/leave – you no longer work there"),
        "trainer": _("/survey – enter the KPI report of an enterprise you support\n"
                     "/baseline – enter its KPIs before training\n"
                     "/kpi – its trend\n"
                     "/modules – where it stands in SCORE: workshops and visits"),
        "staff": _("/pending – enrolments waiting for approval\n"
                   "/broadcast – write a message to many users\n"
                   "/broadcasts – recent broadcasts, their progress, cancelling\n"
                   "/staff – make someone a trainer or staff, or revoke it\n"
                   "/surveys – survey rounds: who answered, moving a round, the KPI chart\n"
                   "/trainers – assign trainers to enterprises\n"
                   "/modules name – where an enterprise stands: workshops and visits"),
    }.get(role or "", _("/start – begin: enrol an enterprise or join one as a worker"))
    told = _("/visits – the SCORE trainers' consulting visits to your enterprise")
    visits = {
        "owner": told,
        "admin": told,
        "trainer": _("/visit – schedule a consulting visit\n"
                     "/visits – your visits, and those not reported yet\n"
                     "The day before a visit and one hour before it I remind you, and after it "
                     "I ask whether it happened: answer with the buttons."),
        "staff": _("/visit – schedule a trainer's consulting visit\n"
                   "/visits – visits ahead and those not reported yet (/visits Budi or /visits "
                   "JB shows one trainer's or one province's)"),
    }.get(role or "")
    if visits:
        lines = f"{lines}\n{visits}"
    invited = _("/workshops – the SCORE workshops your enterprise is invited to, and your "
                "answer")
    workshops = {
        "owner": invited,
        "admin": invited,
        "trainer": _("/workshops – the workshops of your enterprises, and who attended"),
        "staff": _("/workshop new – create a workshop\n/workshop – change one, record "
                   "attendance or cancel it\n/workshops – upcoming workshops and their "
                   "answers"),
    }.get(role or "")
    if workshops:
        lines = f"{lines}\n{workshops}"
    if role:
        # Good-practice tips are for everyone with a role; staff also look after them.
        lines += "\n" + _("/tip – a good-practice tip\n/tips – the weekly tip: on or off")
        if role == "staff":
            lines += "\n" + _("/stats – the programme in numbers, with a chart")
            lines += "\n" + _("/tips admin – tips: the most and least useful, add, edit, "
                              "retire")
            lines += "\n" + _("/export – everything stored, as a spreadsheet file")
    common = _("/language – change language\n/privacy – what we keep\n"
               "/cancel – stop the current step")
    # Everyone, with a role or not (UU PDP): see and delete what is stored about them.
    common += "\n" + _("/mydata – everything stored about you\n/forget – delete your data")
    return f"{lines}\n{common}"
