//! Word lists the generator draws from: people, teams, channels, sentences, file names, places.

use super::super::rng::Rng;

pub const FIRST_NAMES: &[&str] = &[
    "Adele",
    "Alex",
    "Diego",
    "Grady",
    "Henrietta",
    "Isaiah",
    "Johanna",
    "Joni",
    "Lee",
    "Lidia",
    "Lynne",
    "Megan",
    "Miriam",
    "Nestor",
    "Patti",
    "Pradeep",
    "Irvin",
    "Allan",
    "Christie",
    "Debra",
    "Emily",
    "Enrico",
    "Gerhart",
    "Isabella",
    "Jordan",
    "Kai",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tomás",
    "Ulla",
    "Vera",
    "Wen",
    "Yusuf",
    "Zoë",
];

pub const LAST_NAMES: &[&str] = &[
    "Vance",
    "Wilber",
    "Siciliani",
    "Archie",
    "Mueller",
    "Langer",
    "Lorenz",
    "Sherman",
    "Gu",
    "Holloway",
    "Robbins",
    "Bowen",
    "Graham",
    "Wilke",
    "Fernandez",
    "Gupta",
    "Sayers",
    "Deyoung",
    "Cline",
    "Berry",
    "Braun",
    "Cattaneo",
    "Moser",
    "García",
    "Okafor",
    "Nakamura",
    "Lindqvist",
    "O'Brien",
    "Haddad",
    "Kowalski",
    "Nguyen",
    "Silva",
    "Novak",
    "Petrov",
    "Rahman",
    "Schmidt",
];

pub const JOB_TITLES: &[&str] = &[
    "Marketing Assistant",
    "Retail Manager",
    "Attorney",
    "Designer",
    "Developer",
    "Director",
    "Engineer",
    "Product Manager",
    "Sales Representative",
    "Planner",
    "Auditor",
    "Controller",
];

pub const OFFICES: &[&str] = &[
    "18/2111", "131/1104", "20/1109", "19/3123", "12/1110", "24/1106",
];

/// Accounts without a mailbox (no licence): rooms, shared devices, service accounts.
pub const UNLICENSED: &[(&str, &str)] = &[
    ("Conference Room Adams", "room-adams"),
    ("Scanner Service", "svc-scanner"),
    ("Lobby Display", "lobby-display"),
    ("Build Agent", "svc-build"),
    ("Conference Room Baker", "room-baker"),
    ("Former Contractor", "ext-contractor"),
];

pub const TEAM_NAMES: &[&str] = &[
    "Sales",
    "Marketing",
    "Mark 8 Project Team",
    "Retail",
    "U.S. Sales",
    "Digital Initiative Public Relations",
    "Leadership",
    "Engineering",
    "Finance & Legal",
    "Support",
    "Product Launch",
    "Design Guild",
    "HR",
    "Operations",
    "Research",
    "Customer Success",
];

pub const CHANNEL_NAMES: &[&str] = &[
    "Research and Development",
    "Design",
    "Go to Market Plan",
    "Monthly Reports",
    "Budget",
    "Launch",
    "Q&A",
    "Announcements",
    "Hiring",
    "Security",
    "Partners",
    "Roadmap",
    "Social",
    "Incidents",
    "Customer Feedback",
    "Training",
    "Events",
    "Operations",
];

pub const TOPICS: &[&str] = &[
    "Project Falcon",
    "Budget review",
    "Weekend plans",
    "Launch checklist",
    "Vendor onboarding",
    "Offsite planning",
    "Q3 numbers",
    "Hiring loop",
    "Design critique",
    "Release train",
];

pub const MEETING_SUBJECTS: &[&str] = &[
    "Weekly sync",
    "1:1",
    "Quarterly business review",
    "Sprint planning",
    "Retrospective",
    "Customer call",
    "Interview",
    "All hands",
    "Design review",
    "Budget planning",
    "Lunch & learn",
    "Board prep",
    "Vendor demo",
    "Roadmap review",
];

const SUBJECTS: &[&str] = &[
    "the deck",
    "the budget",
    "our roadmap",
    "the customer escalation",
    "the release notes",
    "the Q3 forecast",
    "the hiring plan",
    "the launch video",
    "the contract",
    "the survey results",
    "the backlog",
    "the security review",
    "the offsite agenda",
    "the design mockups",
];

const VERBS: &[&str] = &[
    "review",
    "update",
    "share",
    "finalize",
    "discuss",
    "approve",
    "rework",
    "summarize",
    "check",
];

const OPENERS: &[&str] = &[
    "Can you",
    "Could we",
    "Please",
    "I will",
    "Let's",
    "We should",
    "Did you",
    "Remember to",
];

const CLOSERS: &[&str] = &[
    "before Friday",
    "today",
    "in the next sprint",
    "after lunch",
    "by end of day",
    "tomorrow morning",
    "when you have a minute",
    "next week",
];

pub const FILE_STEMS: &[&str] = &[
    "Quarterly Review",
    "Project Plan",
    "Budget 2024",
    "Launch Checklist",
    "Meeting Notes",
    "Customer List",
    "Roadmap",
    "Design Spec",
    "Contract Draft",
    "Survey Results",
    "R&D Summary",
    "Adele's notes",
    "Release #42",
    "Q3 Forecast",
    "Onboarding",
    "Org Chart",
];

pub const LOCATIONS: &[&str] = &[
    "Microsoft Teams Meeting",
    "Conf Room Adams",
    "Conf Room Baker",
    "Cafeteria",
    "Building 4, Floor 2",
    "Online",
    "Seattle HQ",
];

pub const TIME_ZONES: &[&str] = &[
    "Pacific Standard Time",
    "UTC",
    "W. Europe Standard Time",
    "India Standard Time",
    "Eastern Standard Time",
];

pub const CATEGORIES: &[&str] = &[
    "Red category",
    "Blue category",
    "Project",
    "Customer",
    "Travel",
];

pub const EMOJI: &[(&str, &str, &str)] = &[
    ("like", "👍", "Like"),
    ("smile", "🙂", "Smile"),
    ("heart", "❤️", "Heart"),
    ("laugh", "😆", "Laugh"),
];

/// A sentence like "Can you review the deck before Friday?"
pub fn sentence(rng: &mut Rng) -> String {
    let opener = rng.pick(OPENERS);
    let question = matches!(*opener, "Can you" | "Could we" | "Did you");
    format!(
        "{opener} {} {} {}{}",
        rng.pick(VERBS),
        rng.pick(SUBJECTS),
        rng.pick(CLOSERS),
        if question { "?" } else { "." }
    )
}

/// A few sentences.
pub fn paragraph(rng: &mut Rng, sentences: usize) -> String {
    (0..sentences.max(1))
        .map(|_| sentence(rng))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Minimal HTML escaping for generated text placed in bodies.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Percent-encodes a path segment the way SharePoint URLs spell names (`%20` for spaces, ...).
pub fn url_segment(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A lower-case ASCII label from a display name: "Mark 8 Project Team" → "mark8projectteam".
pub fn slug(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}
