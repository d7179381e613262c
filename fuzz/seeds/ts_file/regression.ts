# Made-up excerpt in the layout of the Monash regression archive (e.g. AustraliaRainfall_TEST.ts).
@problemName Rainfall
@timeStamps false
@missing false
@univariate true
@equalLength true
@seriesLength 5
@targetlabel true
@data
0.1,0.2,0.3,0.4,0.5:3.2
-1,-2,-3,-4,-5:-0.25
1,2,3,4,5:100
