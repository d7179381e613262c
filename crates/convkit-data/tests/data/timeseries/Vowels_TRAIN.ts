#Made-up excerpt in the layout of the UEA archive's JapaneseVowels_TRAIN.ts: three
#dimensions, series of unequal length, missing values written ? and NaN.
#
@problemName Vowels
@timeStamps false
@missing true
@univariate false
@dimensions 3
@equalLength false
@classLabel true 1 2 10
@data
1.25,-0.5,0.75,2.0:3,2,1,0:0.0,0.001,-7.5,3:1
0.5,1:2,?:NaN,4:10
# a comment among the cases
4,5,6:7,?,9:1.5,2.5,3.5:2
9:8:7:1
