"""The two words a sign-in page shows, and the e-mail repeats beside that browser's code.

One e-mail may carry the codes of several browsers that asked for the same address (signin.py): the words tell
the person which code is theirs. They come from the browser's own sign-in id under a key of their own (core.keys,
"staff sign-in words"): nobody can work out offline which id shows which words, or pick an id for the words it
shows; and never from the address, so they tell nothing about who asked. Two of 256 plain, concrete English
nouns: 65,536 pairs, easy to match at a glance (the five browsers of a full e-mail share words once in 6,500).
"""
import hashlib
import hmac

WORDS = tuple("""
    acorn almond anchor ant anvil apple apricot arrow badge badger bamboo banana barley basil basket bat
    beach bean bear beaver bee beetle bell bench berry birch bison blanket boat book bottle bowl
    bridge brook brush bucket button cabin cactus camel camera canal candle canoe canyon carrot castle cave
    cedar chair cherry cliff clock cloud clover coast cocoa comet compass coral cotton crab crane cricket
    crow cup daisy deer delta desert dog dolphin donkey dove drum duck dune eagle eel elk
    engine falcon feather fern ferret field fig finch flag flute forest fork fox frog garden garlic
    gecko ginger glacier goat goose grape guitar hammer harbor hare harp hawk hazel helmet hen heron
    hill hive honey horse igloo island jacket jasmine kettle key kite koala ladder lagoon lake lamb
    lamp lantern lark leaf lemon lily lime lion lizard llama magnet map maple meadow melon mint
    mirror mole moon moose moss moth mountain mouse mule needle nest newt oak ocean olive onion
    orbit orchid otter owl paddle panda parrot peach pear pebble pencil pepper piano pillow pine planet
    plum pocket pond pony poppy potato prairie puffin pumpkin puzzle quail rabbit radish rain raven reef
    ribbon ridge river robin rocket rope rose saddle sage sail salmon scarf seal shark sheep shell
    shore shovel sky snail snow spoon spring squirrel stamp star stone storm stream summit sun swan
    table teapot tent thimble thunder ticket tide tiger tomato tower trout trumpet tulip tunnel turtle umbrella
    valley violin wagon walnut walrus wave whale wheat whistle willow wind window wolf wren yarn zebra
""".split())


def browser_words(key, browser):
    """The words of the browser whose sign-in id is `browser`, under the words' key: "otter lantern"."""
    digest = hmac.new(key, browser.encode("ascii"), hashlib.sha256).digest()
    return f"{WORDS[digest[0]]} {WORDS[digest[1]]}"
