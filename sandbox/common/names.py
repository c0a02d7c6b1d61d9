"""Fake person names both sandbox portals draw from (seeded, so every seed is reproducible)."""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mason", "Amelia", "Ethan", "Harper", "Logan", "Evelyn", "Aiden", "Abigail", "Jacob",
    "Emily", "Michael", "Ella", "Daniel", "Madison", "Henry", "Scarlett", "Jackson", "Grace",
    "Sebastian", "Chloe", "Owen", "Lily", "Samuel", "Aria", "Matthew", "Zoe", "Wyatt", "Nora",
    "Carter", "Hannah", "Julian", "Layla", "Levi", "Riley", "Isaac", "Penelope", "Gabriel",
    "Victoria", "Anthony", "Camila", "Dylan", "Luna", "Leo", "Stella", "Mateo", "Hazel", "Ryan",
    "Aurora", "Nathan", "Ellie", "Adrian", "Violet", "Caleb", "Savannah", "Thomas", "Audrey",
    "Priya", "Arjun", "Mei", "Hiroshi", "Fatima", "Omar", "Sofia", "Diego", "Ingrid", "Lars",
    "Benjamin", "Theodore", "Jack", "Elizabeth", "Avery", "Mila", "Asher", "Ezra", "Grayson",
    "Hudson", "Hiro", "Chiara", "Marco", "Aisha", "Kwame", "Yara", "Tomasz", "Agnieszka", "Lukas",
    "Greta", "Rafael", "Lucia",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera",
    "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Kim", "Chen", "Okafor", "Novak",
    "Larsen", "Kowalski", "Schmidt", "Rossi", "Dubois", "Bennett", "Brooks", "Reyes", "Foster",
    "Hayes", "Price", "Sullivan", "Russell", "Ortiz", "Jenkins", "Perry", "Powell", "Nowak",
    "Tanaka", "Lindqvist", "Haddad", "Moreau",
)  # fmt: skip
