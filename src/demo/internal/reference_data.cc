#include "demo/internal/reference_data.h"

#include <algorithm>

namespace cdp::demo_internal {
namespace {

// Names are listed by popularity; a weight of 0 means "derive from the rank" (a Zipf-like curve),
// an explicit weight is used for rarer names such as the accented ones.
constexpr FirstName kFemale[] = {
    {"Mary", "", "", 0},          {"Patricia", "Pat", "Patty", 0}, {"Jennifer", "Jen", "Jenny", 0},
    {"Linda", "", "", 0},         {"Elizabeth", "Liz", "Beth", 0}, {"Barbara", "Barb", "", 0},
    {"Susan", "Sue", "Susie", 0}, {"Jessica", "Jess", "", 0},      {"Sarah", "", "", 0},
    {"Karen", "", "", 0},         {"Nancy", "", "", 0},            {"Lisa", "", "", 0},
    {"Margaret", "Maggie", "Peggy", 0}, {"Betty", "", "", 0},      {"Sandra", "Sandy", "", 0},
    {"Ashley", "", "", 0},        {"Dorothy", "Dot", "", 0},       {"Kimberly", "Kim", "", 0},
    {"Emily", "", "", 0},         {"Donna", "", "", 0},            {"Michelle", "Shelly", "", 0},
    {"Carol", "", "", 0},         {"Amanda", "Mandy", "", 0},      {"Melissa", "Missy", "", 0},
    {"Deborah", "Debbie", "Deb", 0}, {"Stephanie", "Steph", "", 0}, {"Rebecca", "Becky", "", 0},
    {"Laura", "", "", 0},         {"Sharon", "", "", 0},           {"Cynthia", "Cindy", "", 0},
    {"Kathleen", "Kathy", "", 0}, {"Amy", "", "", 0},              {"Shirley", "", "", 0},
    {"Angela", "Angie", "", 0},   {"Helen", "", "", 0},            {"Anna", "", "", 0},
    {"Brenda", "", "", 0},        {"Pamela", "Pam", "", 0},        {"Nicole", "Nikki", "", 0},
    {"Samantha", "Sam", "", 0},   {"Katherine", "Kate", "Katie", 0}, {"Emma", "", "", 0},
    {"Ruth", "", "", 0},          {"Christine", "Chris", "", 0},   {"Catherine", "Cathy", "Kate", 0},
    {"Debra", "Deb", "", 0},      {"Rachel", "", "", 0},           {"Carolyn", "", "", 0},
    {"Janet", "", "", 0},         {"Virginia", "Ginny", "", 0},    {"Maria", "", "", 0},
    {"Heather", "", "", 0},       {"Diane", "", "", 0},            {"Julie", "", "", 0},
    {"Joyce", "", "", 0},         {"Victoria", "Vicky", "Tori", 0}, {"Kelly", "", "", 0},
    {"Christina", "Tina", "Chris", 0}, {"Lauren", "", "", 0},      {"Joan", "", "", 0},
    {"Evelyn", "Evie", "", 0},    {"Olivia", "Liv", "", 0},        {"Judith", "Judy", "", 0},
    {"Megan", "Meg", "", 0},      {"Cheryl", "", "", 0},           {"Martha", "Marty", "", 0},
    {"Andrea", "", "", 0},        {"Frances", "Fran", "", 0},      {"Hannah", "", "", 0},
    {"Jacqueline", "Jackie", "", 0}, {"Ann", "", "", 0},           {"Gloria", "", "", 0},
    {"Jean", "", "", 0},          {"Kathryn", "Kate", "Kathy", 0}, {"Alice", "", "", 0},
    {"Teresa", "Terry", "", 0},   {"Sara", "", "", 0},             {"Janice", "Jan", "", 0},
    {"Doris", "", "", 0},         {"Madison", "Maddie", "", 0},    {"Julia", "Jules", "", 0},
    {"Grace", "Gracie", "", 0},   {"Abigail", "Abby", "", 0},      {"Marie", "", "", 0},
    {"Denise", "", "", 0},        {"Beverly", "Bev", "", 0},       {"Amber", "", "", 0},
    {"Theresa", "Tess", "Terry", 0}, {"Marilyn", "", "", 0},       {"Danielle", "Dani", "", 0},
    {"Diana", "Di", "", 0},       {"Brittany", "Britt", "", 0},    {"Natalie", "Nat", "", 0},
    {"Sophia", "Sophie", "", 0},  {"Rose", "Rosie", "", 0},        {"Isabella", "Bella", "Izzy", 0},
    {"Alexis", "Lexi", "", 0},    {"Kayla", "", "", 0},            {"Charlotte", "Charlie", "Lottie", 0},
    {"Alexandra", "Alex", "Lexi", 0}, {"Valerie", "Val", "", 0},   {"Jasmine", "Jaz", "", 0},
    {"Ava", "", "", 0},           {"Mia", "", "", 0},              {"Harper", "", "", 0},
    {"Chloe", "", "", 0},         {"Camila", "Cami", "", 0},       {"Lucy", "", "", 0},
    {"Guadalupe", "Lupe", "", 0}, {"Rosa", "", "", 0},             {"Ana", "", "", 0},
    {"Mei", "", "", 0},           {"Yuki", "", "", 0},             {"Priya", "", "", 0},
    {"Fatima", "", "", 0},        {"Aisha", "", "", 0},            {"Ngozi", "", "", 0},
    {"Zoë", "Zoe", "", 6},        {"Chloé", "", "", 4},            {"Renée", "", "", 5},
    {"Sofía", "Sofi", "", 5},     {"María", "", "", 7},            {"Inés", "", "", 3},
    {"Lucía", "", "", 4},         {"Mónica", "", "", 3},           {"Noémie", "", "", 2},
    {"Anaïs", "", "", 2},         {"Begoña", "", "", 2},           {"Françoise", "", "", 2},
};

constexpr FirstName kMale[] = {
    {"James", "Jim", "Jimmy", 0},     {"Robert", "Bob", "Rob", 0},       {"John", "Johnny", "Jack", 0},
    {"Michael", "Mike", "Mikey", 0},  {"David", "Dave", "", 0},          {"William", "Bill", "Will", 0},
    {"Richard", "Rick", "Dick", 0},   {"Joseph", "Joe", "Joey", 0},      {"Thomas", "Tom", "Tommy", 0},
    {"Christopher", "Chris", "", 0},  {"Charles", "Charlie", "Chuck", 0}, {"Daniel", "Dan", "Danny", 0},
    {"Matthew", "Matt", "", 0},       {"Anthony", "Tony", "", 0},        {"Mark", "", "", 0},
    {"Donald", "Don", "Donny", 0},    {"Steven", "Steve", "", 0},        {"Andrew", "Andy", "Drew", 0},
    {"Paul", "", "", 0},              {"Joshua", "Josh", "", 0},         {"Kenneth", "Ken", "Kenny", 0},
    {"Kevin", "", "", 0},             {"Brian", "", "", 0},              {"George", "", "", 0},
    {"Timothy", "Tim", "", 0},        {"Ronald", "Ron", "Ronnie", 0},    {"Jason", "", "", 0},
    {"Edward", "Ed", "Eddie", 0},     {"Jeffrey", "Jeff", "", 0},        {"Ryan", "", "", 0},
    {"Jacob", "Jake", "", 0},         {"Gary", "", "", 0},               {"Nicholas", "Nick", "", 0},
    {"Eric", "", "", 0},              {"Jonathan", "Jon", "", 0},        {"Stephen", "Steve", "", 0},
    {"Larry", "", "", 0},             {"Justin", "", "", 0},             {"Scott", "", "", 0},
    {"Brandon", "", "", 0},           {"Benjamin", "Ben", "Benny", 0},   {"Samuel", "Sam", "", 0},
    {"Gregory", "Greg", "", 0},       {"Alexander", "Alex", "", 0},      {"Patrick", "Pat", "", 0},
    {"Frank", "", "", 0},             {"Raymond", "Ray", "", 0},         {"Jack", "", "", 0},
    {"Dennis", "", "", 0},            {"Jerry", "", "", 0},              {"Tyler", "", "", 0},
    {"Aaron", "", "", 0},             {"Henry", "Hank", "", 0},          {"Douglas", "Doug", "", 0},
    {"Peter", "Pete", "", 0},         {"Adam", "", "", 0},               {"Nathan", "Nate", "", 0},
    {"Zachary", "Zach", "", 0},       {"Walter", "Walt", "", 0},         {"Kyle", "", "", 0},
    {"Harold", "Harry", "Hal", 0},    {"Carl", "", "", 0},               {"Jeremy", "", "", 0},
    {"Gerald", "Jerry", "", 0},       {"Keith", "", "", 0},              {"Roger", "", "", 0},
    {"Arthur", "Art", "", 0},         {"Terry", "", "", 0},              {"Lawrence", "Larry", "", 0},
    {"Sean", "", "", 0},              {"Christian", "", "", 0},          {"Ethan", "", "", 0},
    {"Austin", "", "", 0},            {"Albert", "Al", "", 0},           {"Jesse", "", "", 0},
    {"Bryan", "", "", 0},             {"Bruce", "", "", 0},              {"Noah", "", "", 0},
    {"Jordan", "", "", 0},            {"Dylan", "", "", 0},              {"Ralph", "", "", 0},
    {"Roy", "", "", 0},               {"Alan", "Al", "", 0},             {"Wayne", "", "", 0},
    {"Eugene", "Gene", "", 0},        {"Juan", "", "", 0},               {"Gabriel", "Gabe", "", 0},
    {"Louis", "Lou", "", 0},          {"Russell", "Russ", "", 0},        {"Randy", "", "", 0},
    {"Vincent", "Vince", "", 0},      {"Philip", "Phil", "", 0},         {"Logan", "", "", 0},
    {"Howard", "", "", 0},            {"Carlos", "", "", 0},             {"Luis", "", "", 0},
    {"Miguel", "", "", 0},            {"Jorge", "", "", 0},              {"Antonio", "Tony", "", 0},
    {"Oscar", "", "", 0},             {"Liam", "", "", 0},               {"Mason", "", "", 0},
    {"Elijah", "Eli", "", 0},         {"Lucas", "Luke", "", 0},          {"Owen", "", "", 0},
    {"Caleb", "", "", 0},             {"Isaac", "Ike", "", 0},           {"Leo", "", "", 0},
    {"Wei", "", "", 0},               {"Hiroshi", "", "", 0},            {"Raj", "", "", 0},
    {"Ahmed", "", "", 0},             {"Mohammed", "", "", 0},           {"Dmitri", "", "", 0},
    {"José", "", "", 9},              {"André", "", "", 4},              {"Raúl", "", "", 4},
    {"Jesús", "", "", 4},             {"Ángel", "", "", 3},              {"Joaquín", "", "", 3},
    {"Björn", "", "", 2},             {"François", "", "", 2},           {"Søren", "", "", 2},
    {"Jürgen", "", "", 2},            {"Efraín", "", "", 2},             {"Agustín", "", "", 2},
};

constexpr LastName kLast[] = {
    {"Smith", 0},      {"Johnson", 0},    {"Williams", 0},   {"Brown", 0},      {"Jones", 0},
    {"Garcia", 0},     {"Miller", 0},     {"Davis", 0},      {"Rodriguez", 0},  {"Martinez", 0},
    {"Hernandez", 0},  {"Lopez", 0},      {"Gonzalez", 0},   {"Wilson", 0},     {"Anderson", 0},
    {"Thomas", 0},     {"Taylor", 0},     {"Moore", 0},      {"Jackson", 0},    {"Martin", 0},
    {"Lee", 0},        {"Perez", 0},      {"Thompson", 0},   {"White", 0},      {"Harris", 0},
    {"Sanchez", 0},    {"Clark", 0},      {"Ramirez", 0},    {"Lewis", 0},      {"Robinson", 0},
    {"Walker", 0},     {"Young", 0},      {"Allen", 0},      {"King", 0},       {"Wright", 0},
    {"Scott", 0},      {"Torres", 0},     {"Nguyen", 0},     {"Hill", 0},       {"Flores", 0},
    {"Green", 0},      {"Adams", 0},      {"Nelson", 0},     {"Baker", 0},      {"Hall", 0},
    {"Rivera", 0},     {"Campbell", 0},   {"Mitchell", 0},   {"Carter", 0},     {"Roberts", 0},
    {"Gomez", 0},      {"Phillips", 0},   {"Evans", 0},      {"Turner", 0},     {"Diaz", 0},
    {"Parker", 0},     {"Cruz", 0},       {"Edwards", 0},    {"Collins", 0},    {"Reyes", 0},
    {"Stewart", 0},    {"Morris", 0},     {"Morales", 0},    {"Murphy", 0},     {"Cook", 0},
    {"Rogers", 0},     {"Gutierrez", 0},  {"Ortiz", 0},      {"Morgan", 0},     {"Cooper", 0},
    {"Peterson", 0},   {"Bailey", 0},     {"Reed", 0},       {"Kelly", 0},      {"Howard", 0},
    {"Ramos", 0},      {"Kim", 0},        {"Cox", 0},        {"Ward", 0},       {"Richardson", 0},
    {"Watson", 0},     {"Brooks", 0},     {"Chavez", 0},     {"Wood", 0},       {"James", 0},
    {"Bennett", 0},    {"Gray", 0},       {"Mendoza", 0},    {"Ruiz", 0},       {"Hughes", 0},
    {"Price", 0},      {"Alvarez", 0},    {"Castillo", 0},   {"Sanders", 0},    {"Patel", 0},
    {"Myers", 0},      {"Long", 0},       {"Ross", 0},       {"Foster", 0},     {"Jimenez", 0},
    {"Powell", 0},     {"Jenkins", 0},    {"Perry", 0},      {"Russell", 0},    {"Sullivan", 0},
    {"Bell", 0},       {"Coleman", 0},    {"Butler", 0},     {"Henderson", 0},  {"Barnes", 0},
    {"Gonzales", 0},   {"Fisher", 0},     {"Vasquez", 0},    {"Simmons", 0},    {"Romero", 0},
    {"Jordan", 0},     {"Patterson", 0},  {"Alexander", 0},  {"Hamilton", 0},   {"Graham", 0},
    {"Reynolds", 0},   {"Griffin", 0},    {"Wallace", 0},    {"Moreno", 0},     {"West", 0},
    {"Cole", 0},       {"Hayes", 0},      {"Bryant", 0},     {"Herrera", 0},    {"Gibson", 0},
    {"Ellis", 0},      {"Tran", 0},       {"Medina", 0},     {"Aguilar", 0},    {"Stevens", 0},
    {"Murray", 0},     {"Ford", 0},       {"Castro", 0},     {"Marshall", 0},   {"Owens", 0},
    {"Harrison", 0},   {"Fernandez", 0},  {"McDonald", 0},   {"Woods", 0},      {"Washington", 0},
    {"Kennedy", 0},    {"Wells", 0},      {"Vargas", 0},     {"Henry", 0},      {"Chen", 0},
    {"Freeman", 0},    {"Webb", 0},       {"Tucker", 0},     {"Guzman", 0},     {"Burns", 0},
    {"Crawford", 0},   {"Olson", 0},      {"Simpson", 0},    {"Porter", 0},     {"Hunter", 0},
    {"Gordon", 0},     {"Mendez", 0},     {"Silva", 0},      {"Shaw", 0},       {"Snyder", 0},
    {"Mason", 0},      {"Dixon", 0},      {"Hunt", 0},       {"Hicks", 0},      {"Holmes", 0},
    {"Palmer", 0},     {"Wagner", 0},     {"Black", 0},      {"Robertson", 0},  {"Boyd", 0},
    {"Rose", 0},       {"Stone", 0},      {"Salazar", 0},    {"Fox", 0},        {"Warren", 0},
    {"Mills", 0},      {"Meyer", 0},      {"Rice", 0},       {"Schmidt", 0},    {"Garza", 0},
    {"Daniels", 0},    {"Ferguson", 0},   {"Nichols", 0},    {"Stephens", 0},   {"Soto", 0},
    {"Weaver", 0},     {"Ryan", 0},       {"Gardner", 0},    {"Payne", 0},      {"Grant", 0},
    {"Dunn", 0},       {"Kelley", 0},     {"Spencer", 0},    {"Hawkins", 0},    {"Arnold", 0},
    {"Pierce", 0},     {"Vazquez", 0},    {"Hansen", 0},     {"Peters", 0},     {"Santos", 0},
    {"Hart", 0},       {"Bradley", 0},    {"Knight", 0},     {"Elliott", 0},    {"Cunningham", 0},
    {"Duncan", 0},     {"Armstrong", 0},  {"Hudson", 0},     {"Carroll", 0},    {"Lane", 0},
    {"Riley", 0},      {"Andrews", 0},    {"Alvarado", 0},   {"Ray", 0},        {"Delgado", 0},
    {"Berry", 0},      {"Perkins", 0},    {"Hoffman", 0},    {"Johnston", 0},   {"Matthews", 0},
    {"Richards", 0},   {"Contreras", 0},  {"Willis", 0},     {"Carpenter", 0},  {"Lawrence", 0},
    {"Sandoval", 0},   {"Wang", 0},       {"Li", 0},         {"Zhang", 0},      {"Liu", 0},
    {"Singh", 0},      {"Kumar", 0},      {"Shah", 0},       {"Yamamoto", 0},   {"Tanaka", 0},
    {"Sato", 0},       {"Park", 0},       {"Choi", 0},       {"Cohen", 0},      {"Schwartz", 0},
    {"Friedman", 0},   {"Kowalski", 0},   {"Nowak", 0},      {"Ivanov", 0},     {"Rossi", 0},
    {"Russo", 0},      {"Romano", 0},     {"Okafor", 0},     {"Mensah", 0},     {"Haddad", 0},
    {"O'Brien", 8},    {"O'Connor", 7},   {"O'Neill", 6},    {"McCarthy", 8},   {"MacDonald", 5},
    {"Van der Berg", 3}, {"De La Cruz", 5}, {"St. John", 3}, {"Lopez-Garcia", 2}, {"Smith-Jones", 2},
    {"Müller", 5},     {"Nuñez", 7},      {"Peña", 6},       {"Muñoz", 7},      {"García", 6},
    {"Hernández", 5},  {"Martínez", 5},   {"Pérez", 4},      {"Sánchez", 4},    {"Ramírez", 4},
    {"Gómez", 3},      {"Jiménez", 3},    {"Fernández", 3},  {"Ibáñez", 2},     {"Ordóñez", 2},
    {"Schröder", 2},   {"Böhm", 2},       {"Østergaard", 1}, {"Łukasik", 1},    {"Zoë-Smith", 1},
};

// weight ~ metro population share; California is ~13% of the weight as in the US population.
constexpr City kCities[] = {
    {"Los Angeles", "LA", "California", "CA", 40, 90001, 89, {213, 323}},
    {"San Diego", "", "California", "CA", 15, 92101, 40, {619, 858}},
    {"San Jose", "", "California", "CA", 10, 95110, 30, {408, 669}},
    {"San Francisco", "SF", "California", "CA", 9, 94102, 32, {415, 628}},
    {"Fresno", "", "California", "CA", 5, 93701, 25, {559, 559}},
    {"Sacramento", "", "California", "CA", 6, 95811, 30, {916, 279}},
    {"Long Beach", "", "California", "CA", 4, 90802, 14, {562, 562}},
    {"Oakland", "", "California", "CA", 4, 94601, 20, {510, 341}},
    {"Bakersfield", "", "California", "CA", 3, 93301, 13, {661, 661}},
    {"Anaheim", "", "California", "CA", 3, 92801, 8, {714, 657}},
    {"Irvine", "", "California", "CA", 3, 92602, 19, {949, 949}},
    {"Santa Monica", "", "California", "CA", 2, 90401, 5, {310, 424}},
    {"Pasadena", "", "California", "CA", 2, 91101, 7, {626, 626}},
    {"Berkeley", "", "California", "CA", 2, 94702, 9, {510, 341}},
    {"Riverside", "", "California", "CA", 3, 92501, 8, {951, 951}},
    {"Santa Barbara", "", "California", "CA", 2, 93101, 10, {805, 805}},
    {"New York", "New York City", "New York", "NY", 60, 10001, 90, {212, 646}},
    {"Brooklyn", "", "New York", "NY", 35, 11201, 39, {718, 347}},
    {"Buffalo", "", "New York", "NY", 5, 14201, 27, {716, 716}},
    {"Rochester", "", "New York", "NY", 4, 14604, 24, {585, 585}},
    {"Chicago", "", "Illinois", "IL", 40, 60601, 60, {312, 773}},
    {"Naperville", "", "Illinois", "IL", 3, 60540, 25, {630, 331}},
    {"Houston", "", "Texas", "TX", 34, 77002, 97, {713, 832}},
    {"San Antonio", "", "Texas", "TX", 21, 78201, 59, {210, 726}},
    {"Dallas", "", "Texas", "TX", 19, 75201, 53, {214, 469}},
    {"Austin", "", "Texas", "TX", 15, 78701, 58, {512, 737}},
    {"Fort Worth", "Ft. Worth", "Texas", "TX", 12, 76102, 76, {817, 682}},
    {"El Paso", "", "Texas", "TX", 9, 79901, 37, {915, 915}},
    {"Phoenix", "", "Arizona", "AZ", 24, 85003, 83, {602, 480}},
    {"Tucson", "", "Arizona", "AZ", 8, 85701, 48, {520, 520}},
    {"Mesa", "", "Arizona", "AZ", 7, 85201, 12, {480, 480}},
    {"Philadelphia", "Philly", "Pennsylvania", "PA", 24, 19102, 53, {215, 267}},
    {"Pittsburgh", "", "Pennsylvania", "PA", 6, 15201, 35, {412, 878}},
    {"Jacksonville", "", "Florida", "FL", 13, 32202, 56, {904, 904}},
    {"Miami", "", "Florida", "FL", 12, 33125, 60, {305, 786}},
    {"Tampa", "", "Florida", "FL", 9, 33602, 46, {813, 656}},
    {"Orlando", "", "Florida", "FL", 7, 32801, 38, {407, 321}},
    {"Tallahassee", "", "Florida", "FL", 3, 32301, 17, {850, 850}},
    {"Fort Lauderdale", "Ft. Lauderdale", "Florida", "FL", 4, 33301, 35, {954, 754}},
    {"St. Petersburg", "Saint Petersburg", "Florida", "FL", 4, 33701, 14, {727, 727}},
    {"Columbus", "", "Ohio", "OH", 13, 43201, 35, {614, 380}},
    {"Cleveland", "", "Ohio", "OH", 6, 44102, 28, {216, 216}},
    {"Cincinnati", "", "Ohio", "OH", 5, 45202, 45, {513, 513}},
    {"Indianapolis", "", "Indiana", "IN", 12, 46201, 40, {317, 463}},
    {"Charlotte", "", "North Carolina", "NC", 12, 28202, 76, {704, 980}},
    {"Raleigh", "", "North Carolina", "NC", 7, 27601, 17, {919, 984}},
    {"Durham", "", "North Carolina", "NC", 4, 27701, 13, {919, 984}},
    {"Seattle", "", "Washington", "WA", 12, 98101, 99, {206, 206}},
    {"Spokane", "", "Washington", "WA", 4, 99201, 23, {509, 509}},
    {"Tacoma", "", "Washington", "WA", 3, 98402, 21, {253, 253}},
    {"Denver", "", "Colorado", "CO", 11, 80202, 37, {303, 720}},
    {"Boulder", "", "Colorado", "CO", 2, 80301, 10, {303, 720}},
    {"Colorado Springs", "", "Colorado", "CO", 6, 80903, 48, {719, 719}},
    {"Washington", "Washington, D.C.", "District of Columbia", "DC", 10, 20001, 36, {202, 202}},
    {"Boston", "", "Massachusetts", "MA", 10, 2108, 30, {617, 857}},
    {"Worcester", "", "Massachusetts", "MA", 3, 1602, 9, {508, 774}},
    {"Springfield", "", "Massachusetts", "MA", 2, 1103, 17, {413, 413}},
    {"Nashville", "", "Tennessee", "TN", 10, 37201, 20, {615, 629}},
    {"Memphis", "", "Tennessee", "TN", 8, 38103, 40, {901, 901}},
    {"Knoxville", "", "Tennessee", "TN", 3, 37902, 38, {865, 865}},
    {"Detroit", "", "Michigan", "MI", 10, 48201, 34, {313, 313}},
    {"Grand Rapids", "", "Michigan", "MI", 3, 49503, 10, {616, 616}},
    {"Ann Arbor", "", "Michigan", "MI", 2, 48103, 6, {734, 734}},
    {"Portland", "", "Oregon", "OR", 10, 97201, 36, {503, 971}},
    {"Eugene", "", "Oregon", "OR", 2, 97401, 4, {541, 458}},
    {"Las Vegas", "", "Nevada", "NV", 10, 89101, 78, {702, 725}},
    {"Reno", "", "Nevada", "NV", 3, 89501, 23, {775, 775}},
    {"Louisville", "", "Kentucky", "KY", 8, 40202, 42, {502, 502}},
    {"Lexington", "", "Kentucky", "KY", 4, 40502, 16, {859, 859}},
    {"Baltimore", "", "Maryland", "MD", 9, 21201, 30, {410, 443}},
    {"Milwaukee", "", "Wisconsin", "WI", 8, 53202, 33, {414, 414}},
    {"Madison", "", "Wisconsin", "WI", 4, 53703, 16, {608, 608}},
    {"Albuquerque", "", "New Mexico", "NM", 7, 87102, 21, {505, 505}},
    {"Kansas City", "", "Missouri", "MO", 7, 64105, 52, {816, 816}},
    {"St. Louis", "Saint Louis", "Missouri", "MO", 5, 63101, 38, {314, 314}},
    {"Atlanta", "", "Georgia", "GA", 8, 30303, 55, {404, 470}},
    {"Savannah", "", "Georgia", "GA", 2, 31401, 18, {912, 912}},
    {"Omaha", "", "Nebraska", "NE", 6, 68102, 33, {402, 531}},
    {"Minneapolis", "", "Minnesota", "MN", 6, 55401, 55, {612, 612}},
    {"Saint Paul", "St. Paul", "Minnesota", "MN", 4, 55101, 29, {651, 651}},
    {"New Orleans", "", "Louisiana", "LA", 6, 70112, 19, {504, 504}},
    {"Baton Rouge", "", "Louisiana", "LA", 3, 70801, 20, {225, 225}},
    {"Salt Lake City", "SLC", "Utah", "UT", 3, 84101, 20, {801, 385}},
    {"Provo", "", "Utah", "UT", 2, 84601, 5, {801, 385}},
    {"Newark", "", "New Jersey", "NJ", 4, 7102, 13, {973, 862}},
    {"Jersey City", "", "New Jersey", "NJ", 4, 7302, 9, {201, 551}},
    {"Princeton", "", "New Jersey", "NJ", 1, 8540, 3, {609, 609}},
    {"Hartford", "", "Connecticut", "CT", 2, 6103, 18, {860, 959}},
    {"New Haven", "", "Connecticut", "CT", 2, 6510, 10, {203, 475}},
    {"Providence", "", "Rhode Island", "RI", 3, 2903, 7, {401, 401}},
    {"Virginia Beach", "", "Virginia", "VA", 6, 23451, 14, {757, 757}},
    {"Richmond", "", "Virginia", "VA", 3, 23219, 16, {804, 804}},
    {"Arlington", "", "Virginia", "VA", 3, 22201, 13, {703, 571}},
    {"Honolulu", "", "Hawaii", "HI", 5, 96813, 13, {808, 808}},
    {"Anchorage", "", "Alaska", "AK", 3, 99501, 15, {907, 907}},
    {"Boise", "", "Idaho", "ID", 3, 83702, 15, {208, 986}},
    {"Des Moines", "", "Iowa", "IA", 3, 50309, 13, {515, 515}},
    {"Little Rock", "", "Arkansas", "AR", 3, 72201, 10, {501, 501}},
    {"Birmingham", "", "Alabama", "AL", 3, 35203, 14, {205, 659}},
    {"Oklahoma City", "OKC", "Oklahoma", "OK", 8, 73102, 38, {405, 572}},
    {"Tulsa", "", "Oklahoma", "OK", 5, 74103, 34, {918, 539}},
    {"Wichita", "", "Kansas", "KS", 5, 67202, 29, {316, 316}},
    {"Charleston", "", "South Carolina", "SC", 2, 29401, 13, {843, 854}},
    {"Columbia", "", "South Carolina", "SC", 2, 29201, 29, {803, 839}},
    {"Burlington", "", "Vermont", "VT", 1, 5401, 8, {802, 802}},
    {"Portland", "", "Maine", "ME", 1, 4101, 7, {207, 207}},
    {"Manchester", "", "New Hampshire", "NH", 2, 3101, 9, {603, 603}},
    {"Wilmington", "", "Delaware", "DE", 1, 19801, 10, {302, 302}},
    {"Charleston", "", "West Virginia", "WV", 1, 25301, 14, {304, 681}},
    {"Jackson", "", "Mississippi", "MS", 2, 39201, 13, {601, 769}},
    {"Fargo", "", "North Dakota", "ND", 1, 58102, 4, {701, 701}},
    {"Sioux Falls", "", "South Dakota", "SD", 2, 57103, 6, {605, 605}},
    {"Billings", "", "Montana", "MT", 1, 59101, 6, {406, 406}},
    {"Cheyenne", "", "Wyoming", "WY", 1, 82001, 9, {307, 307}},
};

constexpr std::string_view kStreetNames[] = {
    "Main", "Oak", "Maple", "Cedar", "Pine", "Elm", "Washington", "Lake", "Hill", "Park", "Sunset",
    "Lincoln", "Jefferson", "Madison", "Franklin", "Highland", "Church", "Spring", "Ridge", "Meadow",
    "Forest", "River", "Willow", "Chestnut", "Walnut", "Market", "Center", "Mill", "Valley", "Jackson",
    "Adams", "Union", "Grant", "Sycamore", "Magnolia", "Dogwood", "Birch", "Hickory", "Laurel", "Cherry",
    "Holly", "Summit", "Prospect", "Pleasant", "Orchard", "Colonial", "Lakeview", "Hillcrest", "Fairview",
    "Riverside", "Woodland", "Bay", "Harbor", "Ocean", "Mission", "Peachtree", "Bluebonnet", "Aspen",
    "Canyon", "Mesa", "Sierra", "Vista", "Palm", "Cypress", "Juniper", "Redwood", "Sequoia", "Poplar",
    "Beech", "Spruce", "Martin Luther King Jr", "Broad", "Front", "Water", "High", "Academy", "College",
    "1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th", "12th", "14th", "21st",
    "Fremont", "Alameda", "Cesar Chavez", "Kennedy", "Roosevelt", "Wilson", "Monroe", "Green", "Chapel",
};

constexpr NamePair kStreetTypes[] = {
    {"Street", "St"},  {"Street", "St"},  {"Street", "St"},     {"Avenue", "Ave"}, {"Avenue", "Ave"},
    {"Road", "Rd"},    {"Boulevard", "Blvd"}, {"Drive", "Dr"},  {"Drive", "Dr"},   {"Lane", "Ln"},
    {"Court", "Ct"},   {"Place", "Pl"},   {"Way", "Way"},       {"Terrace", "Ter"}, {"Circle", "Cir"},
    {"Parkway", "Pkwy"}, {"Highway", "Hwy"},
};

constexpr NamePair kDirections[] = {
    {"North", "N"}, {"South", "S"},  {"East", "E"},  {"West", "W"},
    {"Northeast", "NE"}, {"Northwest", "NW"}, {"Southeast", "SE"}, {"Southwest", "SW"},
};

constexpr WeightedName kEmailDomains[] = {
    {"gmail.com", 38}, {"yahoo.com", 13}, {"outlook.com", 9}, {"hotmail.com", 9}, {"icloud.com", 8},
    {"aol.com", 4},    {"comcast.net", 3}, {"msn.com", 2},    {"live.com", 2},    {"att.net", 2},
    {"protonmail.com", 1}, {"verizon.net", 1}, {"me.com", 1}, {"mail.com", 1},    {"sbcglobal.net", 1},
};

constexpr std::string_view kWorkDomains[] = {
    "contoso.com",      "fabrikam.com",       "northwindtraders.com", "adventure-works.com",
    "tailspintoys.com", "wingtiptoys.com",    "litwareinc.com",       "proseware.com",
    "fourthcoffee.com", "woodgrovebank.com",  "alpineskihouse.com",   "margiestravel.com",
    "lucernepublishing.com", "treyresearch.net", "cohovineyard.com",  "wideworldimporters.com",
    "blueyonderairlines.com", "relecloud.com",
};

constexpr Occupation kOccupations[] = {
    {"Teacher", 54000, -0.30, 60, AgeGroup::kWorking},
    {"Nurse", 77000, 0.0, 45, AgeGroup::kWorking},
    {"Software Engineer", 128000, 0.20, 40, AgeGroup::kWorking},
    {"Accountant", 79000, 0.0, 30, AgeGroup::kWorking},
    {"Sales Associate", 34000, -0.10, 45, AgeGroup::kWorking},
    {"Store Manager", 58000, 0.0, 25, AgeGroup::kWorking},
    {"Marketing Manager", 98000, 0.15, 20, AgeGroup::kWorking},
    {"Physician", 215000, 0.25, 8, AgeGroup::kWorking},
    {"Lawyer", 145000, 0.20, 10, AgeGroup::kWorking},
    {"Electrician", 61000, 0.0, 20, AgeGroup::kWorking},
    {"Chef", 50000, 0.05, 15, AgeGroup::kWorking},
    {"Barista", 29000, 0.10, 12, AgeGroup::kWorking},
    {"Graphic Designer", 57000, 0.05, 15, AgeGroup::kWorking},
    {"Mechanical Engineer", 96000, 0.05, 18, AgeGroup::kWorking},
    {"Consultant", 112000, 0.15, 18, AgeGroup::kWorking},
    {"Truck Driver", 51000, -0.05, 22, AgeGroup::kWorking},
    {"Administrative Assistant", 43000, -0.05, 30, AgeGroup::kWorking},
    {"Small Business Owner", 88000, 0.10, 18, AgeGroup::kWorking},
    {"Real Estate Agent", 66000, 0.05, 10, AgeGroup::kWorking},
    {"Pharmacist", 128000, 0.10, 6, AgeGroup::kWorking},
    {"Police Officer", 69000, 0.0, 10, AgeGroup::kWorking},
    {"Data Analyst", 84000, 0.10, 15, AgeGroup::kWorking},
    {"Customer Service Representative", 38000, -0.10, 25, AgeGroup::kWorking},
    {"Student", 16000, -0.20, 100, AgeGroup::kStudent},
    {"Retired", 44000, -0.05, 100, AgeGroup::kRetired},
};

constexpr Product kProducts[] = {
    {1001, "Cold Brew Kit", 49.00, Season::kSummer},
    {1002, "Espresso Machine", 449.00, Season::kAllYear},
    {1003, "French Press", 39.00, Season::kAllYear},
    {1004, "Pour Over Set", 59.00, Season::kAllYear},
    {1005, "Burr Coffee Grinder", 129.00, Season::kAllYear},
    {1006, "Milk Frother", 79.00, Season::kAllYear},
    {1007, "House Blend Beans 1kg", 32.00, Season::kAllYear},
    {1008, "Espresso Roast Beans 1kg", 36.00, Season::kAllYear},
    {1009, "Decaf Blend 500g", 18.00, Season::kAllYear},
    {1010, "Ethiopia Yirgacheffe 500g", 24.00, Season::kAllYear},
    {1011, "Colombia Supremo 500g", 21.00, Season::kAllYear},
    {1012, "Sumatra Mandheling 500g", 22.00, Season::kAllYear},
    {1013, "Kenya AA 500g", 26.00, Season::kAllYear},
    {1014, "Guatemala Antigua 500g", 23.00, Season::kAllYear},
    {1015, "Travel Mug", 25.00, Season::kAllYear},
    {1016, "Ceramic Mug Set", 34.00, Season::kHoliday},
    {1017, "Coffee Scale", 45.00, Season::kAllYear},
    {1018, "Gooseneck Kettle", 69.00, Season::kAllYear},
    {1019, "Cold Brew Concentrate", 16.00, Season::kSummer},
    {1020, "Nitro Cold Brew, 12-Pack", 38.00, Season::kSummer},
    {1021, "Iced Coffee Tumbler", 28.00, Season::kSummer},
    {1022, "Chai Latte Mix", 14.00, Season::kAllYear},
    {1023, "Vanilla Syrup", 12.00, Season::kAllYear},
    {1024, "Caramel Syrup", 12.00, Season::kAllYear},
    {1025, "Paper Filters, 200 ct", 8.00, Season::kAllYear},
    {1026, "Reusable Metal Filter", 19.00, Season::kAllYear},
    {1027, "Moka Pot", 42.00, Season::kAllYear},
    {1028, "AeroPress", 39.00, Season::kAllYear},
    {1029, "Chemex 8-Cup", 49.00, Season::kAllYear},
    {1030, "Latte Art Pitcher", 22.00, Season::kAllYear},
    {1031, "Coffee Canister", 29.00, Season::kAllYear},
    {1032, "Descaling Kit", 17.00, Season::kAllYear},
    {1033, "Holiday Gift Box", 89.00, Season::kHoliday},
    {1034, "Gift Card", 100.00, Season::kHoliday},
    {1035, "Advent Coffee Calendar", 65.00, Season::kHoliday},
    {1036, "Coffee Subscription (3 months)", 120.00, Season::kAllYear},
    {1037, "Barista Masterclass", 180.00, Season::kAllYear},
    {1038, "Espresso Cups Set", 36.00, Season::kHoliday},
    {1039, "Cold Brew Pitcher", 35.00, Season::kSummer},
    {1040, "Super-Automatic Espresso Machine", 1299.00, Season::kAllYear},
};

// Zipf-like weight for rank r (0-based): a few names are very common, most are rare. A larger
// offset flattens the curve (US last names are less concentrated than first names).
template <typename T>
WeightedPicker RankedPicker(std::span<const T> items, size_t offset) {
  size_t rank = 0;
  return WeightedPicker(items, [&rank, offset](const T& item) -> uint32_t {
    const size_t r = rank++;
    return item.weight != 0 ? item.weight : static_cast<uint32_t>(6000 / (r + offset));
  });
}

}  // namespace

uint32_t WeightedPicker::Pick(Rng& rng) const {
  const uint64_t target = static_cast<uint64_t>(rng.Uniform() * static_cast<double>(total()));
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), target);
  const size_t index = static_cast<size_t>(it - cumulative_.begin());
  return static_cast<uint32_t>(std::min(index, cumulative_.size() - 1));
}

std::span<const FirstName> FemaleFirstNames() { return kFemale; }
std::span<const FirstName> MaleFirstNames() { return kMale; }
std::span<const LastName> LastNames() { return kLast; }
std::span<const City> Cities() { return kCities; }
std::span<const std::string_view> StreetNames() { return kStreetNames; }
std::span<const NamePair> StreetTypes() { return kStreetTypes; }
std::span<const NamePair> Directions() { return kDirections; }
std::span<const WeightedName> EmailDomains() { return kEmailDomains; }
std::span<const std::string_view> WorkDomains() { return kWorkDomains; }
std::span<const Occupation> Occupations() { return kOccupations; }
std::span<const Product> Products() { return kProducts; }

const WeightedPicker& FemaleFirstNamePicker() {
  static const WeightedPicker picker = RankedPicker(FemaleFirstNames(), 12);
  return picker;
}
const WeightedPicker& MaleFirstNamePicker() {
  static const WeightedPicker picker = RankedPicker(MaleFirstNames(), 12);
  return picker;
}
const WeightedPicker& LastNamePicker() {
  static const WeightedPicker picker = RankedPicker(LastNames(), 30);
  return picker;
}
const WeightedPicker& CityPicker() {
  static const WeightedPicker picker(Cities(), [](const City& c) -> uint32_t { return c.weight; });
  return picker;
}
const WeightedPicker& EmailDomainPicker() {
  static const WeightedPicker picker(EmailDomains(),
                                     [](const WeightedName& d) -> uint32_t { return d.weight; });
  return picker;
}

}  // namespace cdp::demo_internal
