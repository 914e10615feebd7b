"""Why the fault classifier (bot.faults.classify) decided as it did: the 判定依据 on a ticket."""
TEXTS = {
    "faults.why.keywords": "Matched keywords {words} → {category}",
    "faults.why.mentions": "Mentions {words} (looks like “{category}”)",
    "faults.why.command": "Starts with a command word (a command without the slash): handled as a command, not a fault report",
    "faults.why.hypothetical": "Hypothetical or preventive (“{text}”), not a fault happening now",
    "faults.why.past": "Mentions a past time (“{text}”): about an old fault, not a new one",
    "faults.why.info_question": "Asks for information (“{text}”), not a fault report",
    "faults.why.yes_no": "A yes/no question about the state, not a fault report",
    "faults.why.resolved": "Already recovered (“{text}”), nothing to handle",
    "faults.why.healthy": "Negated or normal wording ({words}), not a fault",
    "faults.why.no_symptom": "No fault symptom words",
    "faults.why.weak": "Not enough evidence (score {score} < {threshold})",
    "faults.why.runner_up": "Also looks like “{category}” (score {score} < {best})",
    "faults.why.image": "Comes with an image as evidence",
}
